"""RESHAPE: a byte copy, or nothing when the planner aliases input and output."""

from __future__ import annotations

import math

from tinyflow.errors import ModelError


def prepare(input_shape, output_shape, element_bytes: int) -> dict:
    """Byte count to copy; ModelError when the element counts differ."""
    n_in, n_out = math.prod(int(d) for d in input_shape), math.prod(int(d) for d in output_shape)
    if n_in != n_out:
        raise ModelError(
            f"RESHAPE from {list(input_shape)} to {list(output_shape)} changes the element count",
            "The model is malformed; re-export it.",
        )
    return {"bytes": n_in * element_bytes}


def lower(op, ctx):
    """RESHAPE / SQUEEZE / EXPAND_DIMS: the output is the input's memory (no code)."""
    from tinyflow.compile.ops import Lowered, checks

    (x, *_), y = checks.io(ctx, op, 1)
    if x.type_name != y.type_name:
        ctx.fail("changes the element type", checks.MALFORMED)
    checks.guarded(ctx, prepare, x.shape, y.shape, y.dtype.itemsize)
    return Lowered("", ("reshape",), alias=True)


LOWERINGS = {"RESHAPE": lower, "SQUEEZE": lower, "EXPAND_DIMS": lower}
ARITY = {"RESHAPE": ("input", "shape?"), "SQUEEZE": ("input",), "EXPAND_DIMS": ("input", "axis")}
