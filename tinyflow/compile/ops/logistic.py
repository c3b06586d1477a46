"""LOGISTIC int8: TFLM's CalculateArithmeticOpDataLogistic on the host."""

from __future__ import annotations

import math

from tinyflow.compile.ops.tflm_math import calculate_input_radius, f32, frexp_multiplier
from tinyflow.errors import ModelError

INPUT_INTEGER_BITS = 4


def prepare(shape, input_q: tuple[float, int], output_q: tuple[float, int] | None = None) -> dict:
    """tinyflow_sigmoid_params_t fields (TFLM requires the output zero point -128)."""
    if output_q is not None and int(output_q[1]) != -128:
        raise ModelError(
            f"LOGISTIC int8 output zero point must be -128, got {int(output_q[1])}",
            "Re-quantize the model with the converter's defaults.",
        )
    return sigmoid_params(shape, input_q)


def sigmoid_params(shape, input_q: tuple[float, int]) -> dict:
    """Shared by LOGISTIC and TANH: Q4.27 input multiplier, shift and saturation radius."""
    real = float(f32(input_q[0])) * float(1 << (31 - INPUT_INTEGER_BITS))
    multiplier, left_shift = frexp_multiplier(real)
    return {
        "input_zero_point": int(input_q[1]),
        "input_range_radius": calculate_input_radius(INPUT_INTEGER_BITS, left_shift, 31),
        "input_multiplier": multiplier,
        "input_left_shift": left_shift,
        "size": int(math.prod(int(d) for d in shape)),
    }


def lower(op, ctx):
    """LOGISTIC int8."""
    from tinyflow.compile.ops import Lowered, checks
    from tinyflow.compile.ops.gemmlowp import sigmoid_table

    (x, *_), y = checks.io(ctx, op, 1)
    checks.types(ctx, (x, y), {"INT8"})
    checks.same_shape(ctx, x, y)
    p = checks.guarded(ctx, prepare, x.shape, checks.qparams(ctx, x), checks.qparams(ctx, y))
    # The whole op is a function of one int8: a 256-byte table beats the fixed-point series in
    # flash (fixedpoint.c is larger) and in time (one load per element).
    table = ctx.const_array("int8_t", sigmoid_table(p, "logistic"), "logistic_lut")
    call = (
        f"tinyflow_lut_s8({table}, {ctx.ptr(op.inputs[0], 'int8_t')}, {ctx.ptr(op.outputs[0], 'int8_t')}, {p['size']})"
    )
    return Lowered(call, ("lut",), inplace=((0, 0),))


LOWERINGS = {"LOGISTIC": lower}
ARITY = {"LOGISTIC": ("input",)}
