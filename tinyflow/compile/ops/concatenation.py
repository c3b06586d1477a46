"""CONCATENATION: slab sizes along the axis, and requantization when input parameters differ."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from tinyflow.errors import ModelError

MAX_INPUTS = 16


def prepare(
    input_shapes: Sequence[Sequence[int]],
    axis: int,
    element_bytes: int,
    input_qs: Sequence[tuple[float, int]] | None = None,
    output_q: tuple[float, int] | None = None,
) -> dict:
    """tinyflow_concat_params_t fields, plus "requant" (tinyflow_concat_requant_t fields or None)."""
    shapes = [[int(d) for d in s] for s in input_shapes]
    if not 1 <= len(shapes) <= MAX_INPUTS:
        raise ModelError(
            f"CONCATENATION of {len(shapes)} inputs; the kernel takes 1 to {MAX_INPUTS}",
            "Use --runtime tflm for this model.",
        )
    rank = len(shapes[0])
    ax = axis + rank if axis < 0 else axis
    if not 0 <= ax < rank or any(len(s) != rank for s in shapes):
        raise ModelError(
            f"CONCATENATION axis {axis} does not fit input shapes {shapes}", "The model is malformed; re-export it."
        )
    for s in shapes:
        if [d for i, d in enumerate(s) if i != ax] != [d for i, d in enumerate(shapes[0]) if i != ax]:
            raise ModelError(
                f"CONCATENATION inputs {shapes} differ outside axis {ax}", "The model is malformed; re-export it."
            )
    params = {
        "num_inputs": len(shapes),
        "outer": math.prod(shapes[0][:ax]),
        "copy_bytes": [math.prod(s[ax:]) * element_bytes for s in shapes] + [0] * (MAX_INPUTS - len(shapes)),
        "requant": None,
    }
    if (
        input_qs is not None
        and output_q is not None
        and output_q[0] is not None
        and any(np.float32(q[0]) != np.float32(output_q[0]) or int(q[1]) != int(output_q[1]) for q in input_qs)
    ):
        inv = np.float32(1.0) / np.float32(output_q[0])
        scales = [float(np.float32(q[0]) * inv) for q in input_qs]
        params["requant"] = {
            "scale": scales + [0.0] * (MAX_INPUTS - len(scales)),
            "input_zero_point": [int(q[1]) for q in input_qs] + [0] * (MAX_INPUTS - len(scales)),
            "output_zero_point": int(output_q[1]),
        }
    return params


def lower(op, ctx):
    """CONCATENATION along any axis; int8 inputs with other parameters than the output are requantized."""
    from tinyflow.compile.ops import Lowered, checks, cstruct

    ins, y = checks.io(ctx, op)
    if not ins or any(t is None for t in ins):
        ctx.fail(f"has inputs {list(op.inputs)}", checks.MALFORMED)
    checks.types(ctx, (*ins, y), {"INT8", "INT16", "INT32", "FLOAT32", "UINT8"})
    if any(t.type_name != y.type_name for t in ins):
        ctx.fail("mixes element types", checks.MALFORMED)
    if op.options.get("fused_activation_function", "NONE") not in ("NONE", 0):
        ctx.fail(
            f"has fused activation {op.options['fused_activation_function']}; TFLM only runs NONE", checks.TFLM_HINT
        )
    quantized = y.type_name == "INT8"
    p = checks.guarded(
        ctx,
        prepare,
        [t.shape for t in ins],
        int(op.options.get("axis", 0)),
        y.dtype.itemsize,
        [checks.qparams(ctx, t) for t in ins] if quantized else None,
        checks.qparams(ctx, y) if quantized else None,
    )
    if sum(p["copy_bytes"]) * p["outer"] != checks.elements(y) * y.dtype.itemsize:
        ctx.fail(f"of {[list(t.shape) for t in ins]} cannot give {list(y.shape)}", checks.MALFORMED)
    sym = ctx.struct(cstruct.CONCAT, {k: v for k, v in p.items() if k != "requant"}, "concat")
    if p["requant"] is None:
        ptrs = ", ".join(f"(const void *){ctx.ptr(i, 'int8_t')}" for i in op.inputs)
        call = f"tinyflow_concatenation(&{sym}, (const void *const[]){{{ptrs}}}, {ctx.ptr(op.outputs[0], 'int8_t')})"
    else:
        rq = ctx.struct(cstruct.CONCAT_REQUANT, p["requant"], "concat_rq")
        ptrs = ", ".join(ctx.ptr(i, "int8_t") for i in op.inputs)
        call = (
            f"tinyflow_concatenation_requant_s8(&{sym}, &{rq}, (const int8_t *const[]){{{ptrs}}}, "
            f"{ctx.ptr(op.outputs[0], 'int8_t')})"
        )
    return Lowered(call, ("concatenation",))


LOWERINGS = {"CONCATENATION": lower}
ARITY = {"CONCATENATION": ("inputs...",)}
