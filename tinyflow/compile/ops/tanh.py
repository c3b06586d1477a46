"""TANH int8: TFLM's TanhPrepare on the host (same parameters as LOGISTIC)."""

from __future__ import annotations

from tinyflow.compile.ops.logistic import sigmoid_params


def prepare(shape, input_q: tuple[float, int]) -> dict:
    """tinyflow_sigmoid_params_t fields. TFLM ignores the output parameters (1/128, 0 by convention)."""
    return sigmoid_params(shape, input_q)


def lower(op, ctx):
    """TANH int8."""
    from tinyflow.compile.ops import Lowered, checks
    from tinyflow.compile.ops.gemmlowp import sigmoid_table

    (x, *_), y = checks.io(ctx, op, 1)
    checks.types(ctx, (x, y), {"INT8"})
    checks.same_shape(ctx, x, y)
    p = checks.guarded(ctx, prepare, x.shape, checks.qparams(ctx, x))
    # The whole op is a function of one int8: a 256-byte table beats the fixed-point series in
    # flash (fixedpoint.c is larger) and in time (one load per element).
    table = ctx.const_array("int8_t", sigmoid_table(p, "tanh"), "tanh_lut")
    call = (
        f"tinyflow_lut_s8({table}, {ctx.ptr(op.inputs[0], 'int8_t')}, {ctx.ptr(op.outputs[0], 'int8_t')}, {p['size']})"
    )
    return Lowered(call, ("lut",), inplace=((0, 0),))


LOWERINGS = {"TANH": lower}
ARITY = {"TANH": ("input",)}
