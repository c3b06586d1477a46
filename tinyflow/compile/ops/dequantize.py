"""DEQUANTIZE int8/int16/uint8 -> float32 (TFLM DequantizePrepare on the host)."""

from __future__ import annotations

import math

from tinyflow.compile.ops.tflm_math import f32
from tinyflow.errors import ModelError
from tinyflow.tflite.dtypes import CTYPES, LINK_CODES


def prepare(shape, input_dtype: str, input_q: tuple[float, int], output_dtype: str = "float32") -> dict:
    """tinyflow_dequantize_params_t fields."""
    if input_dtype not in ("int8", "int16", "uint8") or output_dtype != "float32":
        raise ModelError(
            f"DEQUANTIZE {input_dtype} -> {output_dtype} is not supported", "Use --runtime tflm for this model."
        )
    return {
        "scale": float(f32(input_q[0])),
        "zero_point": int(input_q[1]),
        "size": int(math.prod(int(d) for d in shape)),
    }


def lower(op, ctx):
    """DEQUANTIZE int8/int16/uint8 -> float32."""
    from tinyflow.compile.ops import Lowered, checks, cstruct

    (x, *_), y = checks.io(ctx, op, 1)
    checks.types(ctx, (x,), {"INT8", "INT16", "UINT8"})
    checks.types(ctx, (y,), {"FLOAT32"})
    checks.same_shape(ctx, x, y)
    p = checks.guarded(ctx, prepare, x.shape, x.type_name.lower(), checks.qparams(ctx, x), "float32")
    ctype = CTYPES[x.type_name]
    call = (
        f"tinyflow_dequantize(&{ctx.struct(cstruct.DEQUANTIZE, p, 'dequant')}, {LINK_CODES[x.type_name]}, "
        f"{ctx.ptr(op.inputs[0], ctype)}, {ctx.ptr(op.outputs[0], 'float')})"
    )
    return Lowered(call, ("dequantize",))


LOWERINGS = {"DEQUANTIZE": lower}
ARITY = {"DEQUANTIZE": ("input",)}
