"""Iteration plans for the element-wise and shape kernels (pure; no model access).

The kernels take at most 6 dims; plans collapse contiguous dims first so the common cases run as
one flat loop on the device.
"""

from __future__ import annotations

from typing import Sequence

from tinyflow.errors import ModelError

MAX_DIMS = 6


def contiguous_strides(shape: Sequence[int]) -> list[int]:
    """Element strides of a C-contiguous array of `shape`."""
    strides, acc = [], 1
    for d in reversed(list(shape)):
        strides.append(acc)
        acc *= int(d)
    return strides[::-1]


def broadcast_plan(shape1: Sequence[int], shape2: Sequence[int], out_shape: Sequence[int], op: str = "op") -> dict:
    """dims/strides1/strides2 (6 each) for a binary op with numpy/TFLite broadcasting.

    Raises:
        ModelError: the shapes do not broadcast to out_shape, or need more than 6 dims.
    """
    rank = len(out_shape)
    if len(shape1) > rank or len(shape2) > rank:
        raise ModelError(
            f"{op}: input shapes {list(shape1)} and {list(shape2)} have more dims than the output {list(out_shape)}",
            "The model is malformed; re-export it.",
        )
    s1 = [1] * (rank - len(shape1)) + [int(d) for d in shape1]
    s2 = [1] * (rank - len(shape2)) + [int(d) for d in shape2]
    out = [int(d) for d in out_shape]
    c1, c2 = contiguous_strides(s1), contiguous_strides(s2)
    dims, st1, st2 = [], [], []
    for d in range(rank):
        for s, c, lst in ((s1, c1, st1), (s2, c2, st2)):
            if s[d] == out[d]:
                lst.append(c[d] if out[d] > 1 else 0)
            elif s[d] == 1:
                lst.append(0)
            else:
                raise ModelError(
                    f"{op}: shapes {list(shape1)} and {list(shape2)} do not broadcast to {list(out_shape)}",
                    "The model is malformed; re-export it.",
                )
        dims.append(out[d])
    dims, st1, st2 = _collapse(dims, st1, st2)
    if len(dims) > MAX_DIMS:
        raise ModelError(
            f"{op}: broadcasting {list(shape1)} with {list(shape2)} needs {len(dims)} dims; the kernel takes {MAX_DIMS}",
            "Use --runtime tflm for this model.",
        )
    pad = MAX_DIMS - len(dims)
    return {"dims": [1] * pad + dims, "strides1": [0] * pad + st1, "strides2": [0] * pad + st2}


def _collapse(dims: list[int], st1: list[int], st2: list[int]):
    """Drop size-1 dims and merge neighbours that both inputs walk contiguously."""
    keep = [i for i, d in enumerate(dims) if d != 1]
    dims, st1, st2 = [dims[i] for i in keep], [st1[i] for i in keep], [st2[i] for i in keep]
    if not dims:
        return [1], [0], [0]
    out_d, out_1, out_2 = [dims[-1]], [st1[-1]], [st2[-1]]
    for d, a, b in zip(reversed(dims[:-1]), reversed(st1[:-1]), reversed(st2[:-1])):
        if a == out_1[0] * out_d[0] and b == out_2[0] * out_d[0]:
            out_d[0] *= d
        else:
            out_d.insert(0, d)
            out_1.insert(0, a)
            out_2.insert(0, b)
    return out_d, out_1, out_2


def pad_dims(shape: Sequence[int], fill: int = 1) -> list[int]:
    """`shape` left-padded with `fill` to 6 dims (ModelError past 6)."""
    shape = [int(d) for d in shape]
    if len(shape) > MAX_DIMS:
        raise ModelError(
            f"Tensor of rank {len(shape)} ({shape}) exceeds the compiled runtime's {MAX_DIMS} dims",
            "Use --runtime tflm for this model.",
        )
    return [fill] * (MAX_DIMS - len(shape)) + shape
