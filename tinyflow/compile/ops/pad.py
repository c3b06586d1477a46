"""PAD / PADV2: padded 6-D shapes and the constant element (TFLM PadPrepare on the host)."""

from __future__ import annotations

import numpy as np

from tinyflow.compile.ops.shapes import MAX_DIMS, pad_dims
from tinyflow.errors import ModelError


def prepare(input_shape, paddings, dtype: str, constant=None, output_zero_point: int = 0) -> dict:
    """tinyflow_pad_params_t fields. `constant` is PADV2's value; PAD pads with the output zero point."""
    pads = np.asarray(paddings, dtype=np.int64).reshape(-1, 2)
    shape = [int(d) for d in input_shape]
    if len(pads) != len(shape) or (pads < 0).any():
        raise ModelError(
            f"PAD paddings {pads.tolist()} do not match input shape {shape}", "The model is malformed; re-export it."
        )
    value = constant if constant is not None else (output_zero_point if dtype in ("int8", "int16", "uint8") else 0)
    raw = np.asarray([value], dtype=np.dtype(dtype)).astype(np.dtype(dtype).newbyteorder("<")).tobytes()
    out_shape = [d + int(a) + int(b) for d, (a, b) in zip(shape, pads)]
    return {
        "element_bytes": len(raw),
        "input_dims": pad_dims(shape),
        "output_dims": pad_dims(out_shape),
        "left": [0] * (MAX_DIMS - len(shape)) + [int(a) for a, _ in pads],
        "pad_value": list(raw) + [0] * (4 - len(raw)),
    }


def lower(op, ctx):
    """PAD / PADV2 with constant paddings (and constant value)."""
    from tinyflow.compile.ops import Lowered, checks, cstruct

    ins, y = checks.io(ctx, op, 2)
    x = ins[0]
    checks.types(ctx, (x, y), {"INT8", "INT16", "INT32", "FLOAT32", "UINT8"})
    if x.type_name != y.type_name:
        ctx.fail("changes the element type", checks.MALFORMED)
    pads = checks.constant(ctx, op.inputs[1], "paddings")
    value = None
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        value = np.asarray(checks.constant(ctx, op.inputs[2], "constant value")).reshape(-1)
        if value.size != 1:
            ctx.fail(f"constant value has {value.size} elements, expected 1", checks.MALFORMED)
        value = value[0].item()
    zp = checks.qparams(ctx, y)[1] if y.type_name in ("INT8", "INT16", "UINT8") and len(y.scale) else 0
    p = checks.guarded(ctx, prepare, x.shape, pads, y.type_name.lower(), value, zp)
    if p["output_dims"] != pad_dims(y.shape):
        ctx.fail(f"pads {list(x.shape)} by {np.asarray(pads).tolist()} but declares {list(y.shape)}", checks.MALFORMED)
    call = f"tinyflow_pad(&{ctx.struct(cstruct.PAD, p, 'pad')}, {ctx.ptr(op.inputs[0], 'int8_t')}, {ctx.ptr(op.outputs[0], 'int8_t')})"
    return Lowered(call, ("pad",))


LOWERINGS = {"PAD": lower, "PADV2": lower}
ARITY = {"PAD": ("input", "paddings"), "PADV2": ("input", "paddings", "constant_values?")}
