"""RELU / RELU6 int8: TFLM's ReluPrepare / Relu6Prepare on the host."""

from __future__ import annotations

import math

from tinyflow.compile.ops.tflm_math import f32, mbqm, quantize_multiplier, round_away

# Tensors at least this large run as a 256-byte table lookup (tinyflow_lut_s8) instead.
LUT_MIN_ELEMENTS = 256


def relu_table(p: dict) -> list[int]:
    """tinyflow_relu_s8's output for every int8 input (index x + 128)."""
    return [
        max(
            p["act_min"],
            min(
                p["act_max"],
                p["output_offset"] + mbqm(x - p["input_offset"], p["output_multiplier"], p["output_shift"]),
            ),
        )
        for x in range(-128, 128)
    ]


def relu6_table(p: dict) -> list[int]:
    """tinyflow_relu6_s8's output for every int8 input."""
    return [max(p["lower"], min(p["upper"], x)) for x in range(-128, 128)]


def prepare_relu(shape, input_q: tuple[float, int], output_q: tuple[float, int]) -> dict:
    """tinyflow_relu_params_t fields (requantizes input -> output, clamps at zero)."""
    # The pinned TFLM widens both float32 scales and divides in double (ReluPrepare); a float32
    # division rounds e.g. 1.4999999578 up to 1.5 and then every x.5 product rounds the other way.
    real = float(f32(input_q[0])) / float(f32(output_q[0]))
    m, sh = quantize_multiplier(real)
    return {
        "input_offset": int(input_q[1]),
        "output_offset": int(output_q[1]),
        "output_multiplier": m,
        "output_shift": sh,
        "act_min": max(-128, int(output_q[1])),
        "act_max": 127,
        "size": math.prod(int(d) for d in shape),
    }


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
    relu6 = op.name == "RELU6"
    if relu6:
        p = checks.guarded(ctx, prepare_relu6, x.shape, checks.qparams(ctx, x))
    else:
        p = checks.guarded(ctx, prepare_relu, x.shape, checks.qparams(ctx, x), checks.qparams(ctx, y))
    if p["size"] >= LUT_MIN_ELEMENTS:
        table = ctx.const_array("int8_t", relu6_table(p) if relu6 else relu_table(p), "relu_lut")
        return Lowered(f"tinyflow_lut_s8({table}, {src}, {dst}, {p['size']})", ("lut",), inplace=((0, 0),))
    if relu6:
        call = f"tinyflow_relu6_s8(&{ctx.struct(cstruct.RELU6, p, 'relu6')}, {src}, {dst})"
    else:
        call = f"tinyflow_relu_s8(&{ctx.struct(cstruct.RELU, p, 'relu')}, {src}, {dst})"
    return Lowered(call, ("activations",), inplace=((0, 0),))


LOWERINGS = {"RELU": lower, "RELU6": lower}
ARITY = {"RELU": ("input",), "RELU6": ("input",)}
