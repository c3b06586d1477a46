"""RELU / RELU6 int8: TFLM's ReluPrepare / Relu6Prepare on the host."""

from __future__ import annotations

import math

from tinyflow.compile.ops.tflm_math import f32, quantize_multiplier, round_away


def prepare_relu(shape, input_q: tuple[float, int], output_q: tuple[float, int]) -> dict:
    """tinyflow_relu_params_t fields (requantizes input -> output, clamps at zero)."""
    real = float(f32(input_q[0]) / f32(output_q[0]))  # TFLM divides in float, then widens
    m, sh = quantize_multiplier(real)
    return {"input_offset": int(input_q[1]), "output_offset": int(output_q[1]), "output_multiplier": m,
            "output_shift": sh, "act_min": max(-128, int(output_q[1])), "act_max": 127,
            "size": math.prod(int(d) for d in shape)}


def prepare_relu6(shape, input_q: tuple[float, int]) -> dict:
    """tinyflow_relu6_params_t fields: [zero, six] in the input's quantization."""
    six = round_away(float(f32(6.0) / f32(input_q[0]))) + int(input_q[1])
    return {"lower": int(input_q[1]), "upper": max(-128, min(127, six)), "size": math.prod(int(d) for d in shape)}
