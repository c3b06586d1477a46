"""Host-side Prepare math of the TFLite Micro reference kernels, bit-exact, in Python.

TFLM computes multipliers, shifts, radii and activation ranges in each kernel's Prepare from the
tensors' float32 scales; the compiled runtime does it here, once, so the device only runs Eval.
Float32 steps are done in numpy float32 and double steps in Python floats, as TFLM does them.
"""

from __future__ import annotations

import math

import numpy as np

INT_RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "int32": (-(2**31), 2**31 - 1)}


def round_away(x: float) -> int:
    """std::round / TfLiteRound: nearest integer, halves away from zero."""
    a = abs(float(x))
    f = math.floor(a)
    r = f + 1 if a - f >= 0.5 else f
    return int(-r if x < 0 else r)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """tflite::QuantizeMultiplier (double-rounding build): (Q31 multiplier, shift)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = round_away(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return int(q_fixed), int(shift)


def f32(x) -> np.float32:
    return np.float32(x)


def quantize_float(value: float, scale: float, zero_point: int) -> int:
    """tflite::Quantize in kernel_util.cc: zero_point + round(f / scale), in float32."""
    return int(zero_point) + round_away(float(f32(value) / f32(scale)))


def activation_range(activation: str | int, scale: float, zero_point: int, dtype: str = "int8") -> tuple[int, int]:
    """CalculateActivationRangeQuantized: the clamp [min, max] a fused activation implies."""
    qmin, qmax = INT_RANGES[dtype]
    name = _activation_name(activation)
    if name == "NONE":
        return qmin, qmax
    if name == "RELU":
        return max(qmin, quantize_float(0.0, scale, zero_point)), qmax
    if name == "RELU6":
        return max(qmin, quantize_float(0.0, scale, zero_point)), min(qmax, quantize_float(6.0, scale, zero_point))
    if name == "RELU_N1_TO_1":
        return max(qmin, quantize_float(-1.0, scale, zero_point)), min(qmax, quantize_float(1.0, scale, zero_point))
    if name in ("TANH", "SIGN_BIT"):  # TFLM's quantized kernels do not apply these: full range
        return qmin, qmax
    raise ValueError(f"fused activation {name} has no integer range")


def _activation_name(activation) -> str:
    if isinstance(activation, str):
        return activation.upper()
    return {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}.get(int(activation), "?")


def calculate_input_radius(input_integer_bits: int, input_left_shift: int, total_signed_bits: int = 31) -> int:
    """tflite::CalculateInputRadius (double math, floor)."""
    max_input_rescaled = (
        1.0
        * ((1 << input_integer_bits) - 1)
        * float(1 << (total_signed_bits - input_integer_bits))
        / float(1 << input_left_shift)
    )
    return int(math.floor(max_input_rescaled))


def preprocess_softmax_scaling(beta: float, input_scale: float, input_integer_bits: int) -> tuple[int, int]:
    """tflite::PreprocessSoftmaxScaling: (multiplier, left shift) of beta * scale in Q(int bits)."""
    real = min(float(beta) * float(input_scale) * float(1 << (31 - input_integer_bits)), float((1 << 31) - 1))
    return quantize_multiplier(real)


def frexp_multiplier(real: float) -> tuple[int, int]:
    """LOGISTIC/TANH int8 Prepare: q = frexp(real, &shift); multiplier = round(q * 2^31)."""
    q, shift = math.frexp(real)
    return round_away(q * (1 << 31)), int(shift)


# -- integer requantization, emulated exactly (for tables the host bakes into flash) -------------


def wrap32(x: int) -> int:
    """Two's complement int32 wrap of a Python int."""
    return ((int(x) + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def srdhm(a: int, b: int) -> int:
    """gemmlowp::SaturatingRoundingDoublingHighMul on int32 values."""
    if a == b == -(1 << 31):
        return (1 << 31) - 1
    ab = int(a) * int(b)
    n = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
    q = abs(n) >> 31  # C's division truncates toward zero
    return q if n >= 0 else -q


def rdivpot(x: int, exponent: int) -> int:
    """gemmlowp::RoundingDivideByPOT."""
    mask = (1 << exponent) - 1
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if (x & mask) > threshold else 0)


def mbqm(x: int, multiplier: int, shift: int) -> int:
    """tflite::MultiplyByQuantizedMultiplier (double rounding), as tinyflow_mbqm in common.h."""
    left, right = max(shift, 0), max(-shift, 0)
    return rdivpot(srdhm(wrap32(int(x) << left), multiplier), right)
