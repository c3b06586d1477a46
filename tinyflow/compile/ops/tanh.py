"""TANH int8: TFLM's TanhPrepare on the host (same parameters as LOGISTIC)."""

from __future__ import annotations

from tinyflow.compile.ops.logistic import sigmoid_params


def prepare(shape, input_q: tuple[float, int]) -> dict:
    """tinyflow_sigmoid_params_t fields. TFLM ignores the output parameters (1/128, 0 by convention)."""
    return sigmoid_params(shape, input_q)


def lower(op, ctx):
    """TANH int8."""
    from tinyflow.compile.ops import Lowered, checks, cstruct

    (x, *_), y = checks.io(ctx, op, 1)
    checks.types(ctx, (x, y), {"INT8"})
    checks.same_shape(ctx, x, y)
    p = checks.guarded(ctx, prepare, x.shape, checks.qparams(ctx, x))
    call = (f"tinyflow_tanh_s8(&{ctx.struct(cstruct.SIGMOID, p, 'tanh')}, "
            f"{ctx.ptr(op.inputs[0], 'int8_t')}, {ctx.ptr(op.outputs[0], 'int8_t')})")
    return Lowered(call, ("tanh", "fixedpoint"), inplace=((0, 0),))


LOWERINGS = {"TANH": lower}
