"""DEQUANTIZE int8/int16/uint8 -> float32 (TFLM DequantizePrepare on the host)."""

from __future__ import annotations

import math

from tinyflow.compile.ops.tflm_math import f32
from tinyflow.errors import ModelError


def prepare(shape, input_dtype: str, input_q: tuple[float, int], output_dtype: str = "float32") -> dict:
    """tinyflow_dequantize_params_t fields."""
    if input_dtype not in ("int8", "int16", "uint8") or output_dtype != "float32":
        raise ModelError(f"DEQUANTIZE {input_dtype} -> {output_dtype} is not supported",
                         "Use --runtime tflm for this model.")
    return {"scale": float(f32(input_q[0])), "zero_point": int(input_q[1]),
            "size": int(math.prod(int(d) for d in shape))}
