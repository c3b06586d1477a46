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


def lower(op, ctx):
    """RELU / RELU6 int8."""
    from tinyflow.compile.ops import Lowered, checks, cstruct

    (x, *_), y = checks.io(ctx, op, 1)
    checks.types(ctx, (x, y), {"INT8"})
    checks.same_shape(ctx, x, y)
    src, dst = ctx.ptr(op.inputs[0], "int8_t"), ctx.ptr(op.outputs[0], "int8_t")
    if op.name == "RELU6":
        p = checks.guarded(ctx, prepare_relu6, x.shape, checks.qparams(ctx, x))
        call = f"tinyflow_relu6_s8(&{ctx.struct(cstruct.RELU6, p, 'relu6')}, {src}, {dst})"
    else:
        p = checks.guarded(ctx, prepare_relu, x.shape, checks.qparams(ctx, x), checks.qparams(ctx, y))
        call = f"tinyflow_relu_s8(&{ctx.struct(cstruct.RELU, p, 'relu')}, {src}, {dst})"
    return Lowered(call, ("activations", "fixedpoint"), inplace=((0, 0),))


LOWERINGS = {"RELU": lower, "RELU6": lower}
