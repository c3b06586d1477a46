"""CONCATENATION: slab sizes along the axis, and requantization when input parameters differ."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from tinyflow.errors import ModelError

MAX_INPUTS = 16


def prepare(input_shapes: Sequence[Sequence[int]], axis: int, element_bytes: int,
            input_qs: Sequence[tuple[float, int]] | None = None, output_q: tuple[float, int] | None = None) -> dict:
    """tinyflow_concat_params_t fields, plus "requant" (tinyflow_concat_requant_t fields or None)."""
    shapes = [[int(d) for d in s] for s in input_shapes]
    if not 1 <= len(shapes) <= MAX_INPUTS:
        raise ModelError(f"CONCATENATION of {len(shapes)} inputs; the kernel takes 1 to {MAX_INPUTS}",
                         "Use --runtime tflm for this model.")
    rank = len(shapes[0])
    ax = axis + rank if axis < 0 else axis
    if not 0 <= ax < rank or any(len(s) != rank for s in shapes):
        raise ModelError(f"CONCATENATION axis {axis} does not fit input shapes {shapes}", "The model is malformed; re-export it.")
    for s in shapes:
        if [d for i, d in enumerate(s) if i != ax] != [d for i, d in enumerate(shapes[0]) if i != ax]:
            raise ModelError(f"CONCATENATION inputs {shapes} differ outside axis {ax}", "The model is malformed; re-export it.")
    params = {"num_inputs": len(shapes), "outer": math.prod(shapes[0][:ax]),
              "copy_bytes": [math.prod(s[ax:]) * element_bytes for s in shapes] + [0] * (MAX_INPUTS - len(shapes)),
              "requant": None}
    if input_qs is not None and output_q is not None and output_q[0] is not None and any(
            np.float32(q[0]) != np.float32(output_q[0]) or int(q[1]) != int(output_q[1]) for q in input_qs):
        inv = np.float32(1.0) / np.float32(output_q[0])
        scales = [float(np.float32(q[0]) * inv) for q in input_qs]
        params["requant"] = {"scale": scales + [0.0] * (MAX_INPUTS - len(scales)),
                             "input_zero_point": [int(q[1]) for q in input_qs] + [0] * (MAX_INPUTS - len(scales)),
                             "output_zero_point": int(output_q[1])}
    return params
