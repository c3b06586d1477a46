"""Constant folding: evaluate on the host the ops a dynamic batch adds (SHAPE, STRIDED_SLICE, PACK)
and any shape op whose inputs are all constant, so the device never runs them."""

from __future__ import annotations

import numpy as np

from tinyflow.errors import ModelError

_HINT = "Use --runtime tflm for this model, or export it with a fixed batch size."
MAX_FOLD_ELEMENTS = 1 << 16  # folded tensors are shapes and indices, never activations


def _shape(op, ins, model):
    t = model.tensors[op.inputs[0]]
    return np.asarray(t.shape, dtype=np.int64 if op.options.get("out_type") == "INT64" else np.int32)


def _pack(op, ins, model):
    axis = int(op.options.get("axis", 0))
    return np.stack(ins, axis=axis if axis >= 0 else axis + ins[0].ndim + 1)


def _strided_slice(op, ins, model):
    x, begin, end, strides = ins[0], ins[1].reshape(-1), ins[2].reshape(-1), ins[3].reshape(-1)
    o = op.options
    if int(o.get("ellipsis_mask", 0)) or int(o.get("new_axis_mask", 0)):
        raise ValueError("ellipsis and new-axis masks are not folded")
    slices, squeeze = [], []
    for d in range(len(begin)):
        b = None if int(o.get("begin_mask", 0)) >> d & 1 else int(begin[d])
        e = None if int(o.get("end_mask", 0)) >> d & 1 else int(end[d])
        s = int(strides[d])
        if s == 0:
            raise ValueError("zero stride")
        if int(o.get("shrink_axis_mask", 0)) >> d & 1:
            b = int(begin[d])
            e, s = (b + 1 if b != -1 else None), 1
            squeeze.append(d)
        slices.append(slice(b, e, s))
    out = x[tuple(slices)]
    return np.squeeze(out, axis=tuple(squeeze)) if squeeze else out


def _reshape(op, ins, model):
    return ins[0].reshape(model.tensors[op.outputs[0]].shape)


FOLDERS = {
    "SHAPE": _shape,
    "PACK": _pack,
    "STRIDED_SLICE": _strided_slice,
    "RESHAPE": _reshape,
    "SQUEEZE": _reshape,
    "EXPAND_DIMS": _reshape,
}
ALWAYS = {"SHAPE"}  # needs only the (static) input shape
# Inputs of the ops only folded (never lowered); checked with the lowered ops' (ops.ARITY).
ARITY = {"SHAPE": ("input",), "PACK": ("inputs...",), "STRIDED_SLICE": ("input", "begin", "end", "strides")}


def fold_constants(model, values: dict[int, np.ndarray]) -> list:
    """Fold what can be folded into `values` (mutated); returns the ops left to lower, in order."""
    left = []
    for op in model.ops:
        fn = FOLDERS.get(op.name)
        ready = op.name in ALWAYS or all(i >= 0 and i in values for i in op.inputs)
        if fn is None or not ready or len(op.outputs) != 1:
            left.append(op)
            continue
        out = model.tensors[op.outputs[0]]
        try:
            ins = [values[i] for i in op.inputs if i in values]
            result = np.asarray(fn(op, ins, model))
        except (ValueError, IndexError, TypeError) as exc:
            raise ModelError(f"Op {op.index} ({op.name}) on constant inputs cannot be folded: {exc}", _HINT) from None
        if result.size > MAX_FOLD_ELEMENTS:
            raise ModelError(f"Op {op.index} ({op.name}) folds to {result.size} elements", _HINT)
        if out.shape and tuple(result.shape) != tuple(out.shape) and result.size == out.size:
            result = result.reshape(out.shape)
        values[op.outputs[0]] = result.astype(out.dtype, copy=False)
    return left
