"""Host-side Prepare math of TFLM's conv, FC and pooling kernels (bit-exact), and the checks the
compiled kernels rely on. Generic pieces (QuantizeMultiplier, activation ranges) are shared with
the element-wise lowerings in tinyflow.compile.ops.tflm_math.
"""

from __future__ import annotations

import numpy as np

from tinyflow.compile.ops.tflm_math import activation_range, quantize_multiplier

__all__ = ["activation_range", "quantize_multiplier", "conv_multipliers", "fc_multipliers", "out_size",
           "padding", "qparams"]


def out_size(padding: str, in_size: int, filter_size: int, stride: int, dilation: int = 1) -> int:
    """tflite::ComputeOutSize."""
    effective = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        return (in_size + stride - 1) // stride
    if padding == "VALID":
        return (in_size + stride - effective) // stride
    return 0


def padding(stride: int, dilation: int, in_size: int, filter_size: int, out: int) -> int:
    """tflite::ComputePaddingWithOffset's leading padding (the kernels never use the offset)."""
    effective = (filter_size - 1) * dilation + 1
    total = (out - 1) * stride + effective - in_size
    return max(total, 0) // 2


def conv_multipliers(input_scale: float, filter_scales: np.ndarray, output_scale: float,
                     channels: int) -> tuple[list[int], list[int]]:
    """PopulateConvolutionQuantizationParams: per-channel (multiplier, shift), doubles of float32 scales."""
    scales = np.asarray(filter_scales, dtype=np.float32)
    per_channel = len(scales) > 1
    mults, shifts = [], []
    for c in range(channels):
        fs = float(scales[c] if per_channel else scales[0])
        m, s = quantize_multiplier(float(np.float32(input_scale)) * fs / float(np.float32(output_scale)))
        mults.append(m)
        shifts.append(s)
    return mults, shifts


def fc_multipliers(input_scale: float, filter_scales: np.ndarray, output_scale: float,
                   channels: int) -> tuple[list[int], list[int]]:
    """FULLY_CONNECTED: GetQuantizedConvolutionMultipler (float32 product) or per-channel conv math."""
    scales = np.asarray(filter_scales, dtype=np.float32)
    if len(scales) > 1:
        return conv_multipliers(input_scale, scales, output_scale, channels)
    product = float(np.float32(input_scale) * scales[0])  # float32 multiply, as TFLM does
    m, s = quantize_multiplier(product / float(np.float32(output_scale)))
    return [m] * channels, [s] * channels


def qparams(tensor) -> tuple[float, int]:
    """(scale, zero point) of a per-tensor quantized tensor; (0.0, 0) when it has none."""
    if len(tensor.scale) == 0:
        return 0.0, 0
    zp = int(tensor.zero_point[0]) if len(tensor.zero_point) else 0
    return float(tensor.scale[0]), zp
