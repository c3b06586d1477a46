"""MUL int8: TFLM's CalculateOpDataMul on the host; the device runs tinyflow_mul_s8."""

from __future__ import annotations

from tinyflow.compile.ops.shapes import broadcast_plan
from tinyflow.compile.ops.tflm_math import activation_range, f32, quantize_multiplier


def prepare(in1: tuple[float, int], in2: tuple[float, int], out: tuple[float, int], activation="NONE") -> dict:
    """tinyflow_mul_params_t fields."""
    real = float(f32(in1[0])) * float(f32(in2[0])) / float(f32(out[0]))
    m, sh = quantize_multiplier(real)
    act_min, act_max = activation_range(activation, out[0], out[1])
    return {"input1_offset": -int(in1[1]), "input2_offset": -int(in2[1]), "output_offset": int(out[1]),
            "output_multiplier": m, "output_shift": sh, "act_min": act_min, "act_max": act_max}


def plan(shape1, shape2, out_shape) -> dict:
    """tinyflow_broadcast_t fields."""
    return broadcast_plan(shape1, shape2, out_shape, "MUL")
