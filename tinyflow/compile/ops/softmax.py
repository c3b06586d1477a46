"""SOFTMAX int8 -> int8/int16: TFLM's CalculateSoftmaxParams on the host."""

from __future__ import annotations

import math

from tinyflow.compile.ops.tflm_math import calculate_input_radius, f32, preprocess_softmax_scaling
from tinyflow.errors import ModelError

SCALED_DIFF_INTEGER_BITS = 5


def prepare(
    shape, beta: float, input_q: tuple[float, int], output_q: tuple[float, int], output_dtype: str = "int8"
) -> dict:
    """tinyflow_softmax_params_t fields; ModelError for output parameters TFLM rejects."""
    want = {"int8": (1 / 256, -128), "int16": (1 / 65536, -32768)}.get(output_dtype)
    if want is None:
        raise ModelError(
            f"SOFTMAX with int8 input and {output_dtype} output is not supported", "Use --runtime tflm for this model."
        )
    scale_ok = (
        f32(output_q[0]) == f32(want[0])
        if output_dtype == "int8"
        else abs(float(output_q[0]) - want[0]) <= 0.001 * want[0]
    )
    if int(output_q[1]) != want[1] or not scale_ok:
        raise ModelError(
            f"SOFTMAX {output_dtype} output must have scale {want[0]:g} and zero point {want[1]}, "
            f"got {float(output_q[0]):g} and {int(output_q[1])}",
            "Re-quantize the model with the converter's defaults.",
        )
    multiplier, left_shift = preprocess_softmax_scaling(
        float(f32(beta)), float(f32(input_q[0])), SCALED_DIFF_INTEGER_BITS
    )
    diff_min = -1.0 * calculate_input_radius(SCALED_DIFF_INTEGER_BITS, left_shift)
    depth = int(shape[-1])
    return {
        "input_multiplier": multiplier,
        "input_left_shift": left_shift,
        "diff_min": int(diff_min),
        "outer": int(math.prod(int(d) for d in shape)) // max(depth, 1),
        "depth": depth,
    }


def lower(op, ctx):
    """SOFTMAX int8 -> int8/int16 over the last dim."""
    from tinyflow.compile.ops import Lowered, checks, cstruct

    (x, *_), y = checks.io(ctx, op, 1)
    checks.types(ctx, (x,), {"INT8"})
    checks.types(ctx, (y,), {"INT8", "INT16"})
    checks.same_shape(ctx, x, y)
    if len(x.shape) == 0 or checks.elements(x) == 0:
        ctx.fail(f"has an empty input {list(x.shape)}", checks.MALFORMED)
    out = y.type_name.lower()
    p = checks.guarded(
        ctx, prepare, x.shape, float(op.options.get("beta", 1.0)), checks.qparams(ctx, x), checks.qparams(ctx, y), out
    )
    fn, ctype = ("tinyflow_softmax_s8", "int8_t") if out == "int8" else ("tinyflow_softmax_s8_s16", "int16_t")
    call = f"{fn}(&{ctx.struct(cstruct.SOFTMAX, p, 'softmax')}, {ctx.ptr(op.inputs[0], 'int8_t')}, {ctx.ptr(op.outputs[0], ctype)})"
    # A row is read whole (max, sum) before any of it is written, and each write follows its read.
    return Lowered(call, ("softmax", "fixedpoint"), inplace=((0, 0),) if out == "int8" else ())


LOWERINGS = {"SOFTMAX": lower}
ARITY = {"SOFTMAX": ("input",)}
