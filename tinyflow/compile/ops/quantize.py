"""QUANTIZE: TFLM's PrepareQuantizeReference on the host (float -> int, int -> int requantize)."""

from __future__ import annotations

import math

import numpy as np

from tinyflow.compile.ops.tflm_math import f32, mbqm, quantize_multiplier
from tinyflow.errors import ModelError
from tinyflow.tflite.dtypes import CTYPES, LINK_CODES

REQUANTIZE_PAIRS = {
    ("int16", "int8"),
    ("int8", "int8"),
    ("int8", "uint8"),
    ("uint8", "int8"),
    ("int8", "int16"),
    ("int8", "int32"),
    ("int16", "int16"),
    ("int16", "int32"),
    ("int32", "int8"),
    ("int32", "int16"),
}


def prepare(
    shape, input_dtype: str, output_dtype: str, input_q: tuple[float, int] | None, output_q: tuple[float, int]
) -> dict:
    """tinyflow_quantize_params_t fields plus the kernel to call ("f32" or "requantize")."""
    size = int(math.prod(int(d) for d in shape))
    if input_dtype == "float32":
        if output_dtype not in ("int8", "int16"):
            raise ModelError(
                f"QUANTIZE float32 -> {output_dtype} is not supported", "Use --runtime tflm for this model."
            )
        return {
            "kernel": "f32",
            "scale": float(f32(output_q[0])),
            "input_zero_point": 0,
            "output_zero_point": int(output_q[1]),
            "multiplier": 0,
            "shift": 0,
            "size": size,
        }
    if (input_dtype, output_dtype) not in REQUANTIZE_PAIRS:
        raise ModelError(
            f"QUANTIZE {input_dtype} -> {output_dtype} is not supported by TFLM or tinyflow",
            "Use --runtime tflm, or re-quantize the model.",
        )
    multiplier, shift = quantize_multiplier(float(f32(input_q[0])) / float(f32(output_q[0])))
    return {
        "kernel": "requantize",
        "scale": float(f32(output_q[0])),
        "input_zero_point": int(input_q[1]),
        "output_zero_point": int(output_q[1]),
        "multiplier": multiplier,
        "shift": shift,
        "size": size,
    }


LUT_MIN_ELEMENTS = 256  # int8 -> int8 requantize of at least this many elements runs as a table


def requantize_table(p: dict) -> list[int]:
    """tinyflow_requantize's int8 -> int8 output for every input (index x + 128)."""
    return [
        max(-128, min(127, mbqm(x - p["input_zero_point"], p["multiplier"], p["shift"]) + p["output_zero_point"]))
        for x in range(-128, 128)
    ]


def lower(op, ctx):
    """QUANTIZE: float -> int8/int16, or an integer requantize between the pairs TFLM supports."""
    from tinyflow.compile.ops import Lowered, checks, cstruct

    (x, *_), y = checks.io(ctx, op, 1)
    checks.types(ctx, (x,), {"FLOAT32", "INT8", "UINT8", "INT16", "INT32"})
    checks.types(ctx, (y,), {"INT8", "UINT8", "INT16", "INT32"})
    checks.same_shape(ctx, x, y)
    din, dout = x.type_name.lower(), y.type_name.lower()
    p = checks.guarded(
        ctx, prepare, x.shape, din, dout, None if din == "float32" else checks.qparams(ctx, x), checks.qparams(ctx, y)
    )
    src, dst = ctx.ptr(op.inputs[0], CTYPES[x.type_name]), ctx.ptr(op.outputs[0], CTYPES[y.type_name])
    if din == dout == "int8" and p["size"] >= LUT_MIN_ELEMENTS:
        table = ctx.const_array("int8_t", requantize_table(p), "quant_lut")
        return Lowered(f"tinyflow_lut_s8({table}, {src}, {dst}, {p['size']})", ("lut",), inplace=((0, 0),))
    sym = ctx.struct(cstruct.QUANTIZE, p, "quant")
    if p["kernel"] == "f32":
        call = f"tinyflow_quantize_f32(&{sym}, {src}, {LINK_CODES[y.type_name]}, {dst})"
    else:
        call = f"tinyflow_requantize(&{sym}, {LINK_CODES[x.type_name]}, {src}, {LINK_CODES[y.type_name]}, {dst})"
    # In place only when elements do not grow: each write then lands at or before its read.
    grows = np.dtype(dout).itemsize > np.dtype(din).itemsize
    return Lowered(call, ("quantize", "fixedpoint"), inplace=() if grows else ((0, 0),))


LOWERINGS = {"QUANTIZE": lower}
ARITY = {"QUANTIZE": ("input",)}
