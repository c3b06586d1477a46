"""Host-side Prepare math of TFLM's conv, FC and pooling kernels (bit-exact), and the checks the
compiled kernels rely on. Generic pieces (QuantizeMultiplier, activation ranges) are shared with
the element-wise lowerings in tinyflow.compile.ops.tflm_math.
"""

from __future__ import annotations

import math

import numpy as np

from tinyflow.compile.ops.tflm_math import activation_range, quantize_multiplier

# The two arithmetics of a per-tensor FULLY_CONNECTED multiplier (docs/compiled-runtime.md).
# "release": every released TFLM (the pinned Arduino library, esp-tflite-micro) calls the bias-less
# GetQuantizedConvolutionMultipler, which multiplies the two float32 scales in float32.
# "wheel": the tflite_micro wheel the host checks against behaves as a double product (measured: on
# ad01, random:300 seed 1, the compiled runtime agrees 1.000 with it this way, 0.987 the other way).
# They differ by 1 LSB on ~1% of samples. The compiled runtime defaults to "wheel", the reference that
# `tinyflow eval` and the tests run on the host; "release" matches TFLM firmware on a board.
REFERENCES = ("wheel", "release")

__all__ = [
    "REFERENCES",
    "activation_range",
    "quantize_multiplier",
    "conv_multipliers",
    "fc_multipliers",
    "out_size",
    "padding",
    "qparams",
    "checked_multiplier",
    "check_geometry",
]


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


def checked_multiplier(real: float) -> tuple[int, int]:
    """QuantizeMultiplier of a real scale ratio the kernels can apply (shift in [-31, 30]).

    Raises:
        ValueError: the ratio is not finite and positive, or too large for a Q31 multiplier.
    """
    if not (math.isfinite(real) and real > 0):
        raise ValueError(f"requantization scale {real!r} is not a finite positive number")
    m, s = quantize_multiplier(real)
    if s > 30:
        raise ValueError(f"requantization scale {real:g} is too large (shift {s})")
    return m, s


def conv_multipliers(
    input_scale: float, filter_scales: np.ndarray, output_scale: float, channels: int
) -> tuple[list[int], list[int]]:
    """PopulateConvolutionQuantizationParams: per-channel (multiplier, shift), doubles of float32 scales."""
    scales = np.asarray(filter_scales, dtype=np.float32)
    per_channel = len(scales) > 1
    mults, shifts = [], []
    for c in range(channels):
        fs = float(scales[c] if per_channel else scales[0])
        m, s = checked_multiplier(float(np.float32(input_scale)) * fs / float(np.float32(output_scale)))
        mults.append(m)
        shifts.append(s)
    return mults, shifts


def fc_multipliers(
    input_scale: float, filter_scales: np.ndarray, output_scale: float, channels: int, reference: str = "wheel"
) -> tuple[list[int], list[int]]:
    """FULLY_CONNECTED: per-tensor multiplier in the arithmetic of `reference` (REFERENCES), or per-channel conv math."""
    scales = np.asarray(filter_scales, dtype=np.float32)
    if len(scales) > 1:
        return conv_multipliers(input_scale, scales, output_scale, channels)
    if reference not in REFERENCES:
        raise ValueError(f"unknown reference arithmetic {reference!r} (one of {', '.join(REFERENCES)})")
    if reference == "wheel":
        product = float(np.float32(input_scale)) * float(scales[0])
    else:
        with np.errstate(all="ignore"):
            product = float(np.float32(input_scale) * scales[0])  # float32 multiply, as released TFLM does
    m, s = checked_multiplier(product / float(np.float32(output_scale)))
    return [m] * channels, [s] * channels


MAX_GEOMETRY = 1 << 16  # dims, strides, dilations, pads: far above any MCU model, far below int32 overflow
MAX_TENSOR = 1 << 28  # elements of one tensor, so int32 index arithmetic in the kernels cannot overflow


def check_geometry(ctx, params: dict, tensors) -> None:
    """Fail (through ctx) if a geometry field or a tensor size could overflow the kernels' int32 math."""
    for key, value in params.items():
        if key.endswith(("_offset", "act_min", "act_max")):
            continue
        if not 0 <= int(value) <= MAX_GEOMETRY:
            ctx.fail(f"has {key} = {value}; the compiled kernels take 0..{MAX_GEOMETRY}")
    for t in tensors:
        if t.size > MAX_TENSOR:
            ctx.fail(f"tensor {t.name} has {t.size} elements; the compiled kernels take at most {MAX_TENSOR}")


def qparams(tensor) -> tuple[float, int]:
    """(scale, zero point) of a per-tensor quantized tensor; (0.0, 0) when it has none or the
    scale is not a finite positive number (callers reject scale 0)."""
    if len(tensor.scale) == 0:
        return 0.0, 0
    zp = int(tensor.zero_point[0]) if len(tensor.zero_point) else 0
    scale = float(tensor.scale[0])
    return (scale if math.isfinite(scale) and scale > 0 else 0.0), zp
