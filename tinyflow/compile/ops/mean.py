"""MEAN int8: TFLM's PrepareMeanOrSumHelper plus the 1/n folding of QuantizedMeanOrSum, on the host."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from tinyflow.compile.ops.shapes import MAX_DIMS, contiguous_strides
from tinyflow.compile.ops.tflm_math import f32, quantize_multiplier
from tinyflow.errors import ModelError


def resolve_axes(rank: int, axes: Sequence[int]) -> list[int]:
    """tflite ResolveAxis: negative axes wrap, duplicates drop, order kept."""
    out: list[int] = []
    for a in axes:
        a = int(a)
        cur = a + rank if a < 0 else a
        if not 0 <= cur < rank:
            raise ModelError(
                f"MEAN axis {a} is out of range for a rank-{rank} input", "The model is malformed; re-export it."
            )
        if cur not in out:
            out.append(cur)
    return out


def prepare(input_shape, axes, input_q: tuple[float, int], output_q: tuple[float, int]) -> dict:
    """tinyflow_mean_params_t fields."""
    shape = [int(d) for d in input_shape]
    if len(shape) > MAX_DIMS:
        raise ModelError(
            f"MEAN input of rank {len(shape)} exceeds {MAX_DIMS} dims", "Use --runtime tflm for this model."
        )
    reduced_axes = resolve_axes(len(shape), axes)
    strides = contiguous_strides(shape)
    kept = [d for d in range(len(shape)) if d not in reduced_axes]
    red = sorted(reduced_axes)
    n = math.prod(shape[d] for d in red)
    if n <= 0 or math.prod(shape) == 0:
        raise ModelError(f"MEAN over an empty input {shape}", "The model is malformed; re-export it.")
    multiplier, shift = quantize_multiplier(float(f32(input_q[0])) / float(f32(output_q[0])))
    # QuantizedMeanOrSum folds 1/n into the multiplier (int64 math, truncating division).
    s = min(n.bit_length() - 1, 32, 31 + shift)
    multiplier = int((multiplier << s) // n) if s >= 0 else int((multiplier >> -s) // n)
    shift -= s

    def padded(axes_: list[int]):
        pad = MAX_DIMS - len(axes_)
        return [1] * pad + [shape[d] for d in axes_], [0] * pad + [strides[d] for d in axes_]

    kept_dims, kept_strides = padded(kept)
    red_dims, red_strides = padded(red)
    return {
        "input_zero_point": int(input_q[1]),
        "output_zero_point": int(output_q[1]),
        "multiplier": multiplier,
        "shift": shift,
        "num_reduced": n,
        "kept_dims": kept_dims,
        "kept_strides": kept_strides,
        "reduced_dims": red_dims,
        "reduced_strides": red_strides,
    }


def lower(op, ctx):
    """MEAN int8 over constant axes (keep_dims either way)."""
    from tinyflow.compile.ops import Lowered, checks, cstruct

    (x, _axis, *_), y = checks.io(ctx, op, 2)
    checks.types(ctx, (x, y), {"INT8"})
    axes = [int(a) for a in np.asarray(checks.constant(ctx, op.inputs[1], "axis")).reshape(-1)]
    p = checks.guarded(ctx, prepare, x.shape, axes, checks.qparams(ctx, x), checks.qparams(ctx, y))
    if math.prod(p["kept_dims"]) != checks.elements(y):
        ctx.fail(f"over axes {axes} of {list(x.shape)} cannot give {list(y.shape)}", checks.MALFORMED)
    call = (
        f"tinyflow_mean_s8(&{ctx.struct(cstruct.MEAN, p, 'mean')}, "
        f"{ctx.ptr(op.inputs[0], 'int8_t')}, {ctx.ptr(op.outputs[0], 'int8_t')})"
    )
    return Lowered(call, ("mean", "fixedpoint"))


LOWERINGS = {"MEAN": lower}
ARITY = {"MEAN": ("input", "axis")}
