"""QUANTIZE: TFLM's PrepareQuantizeReference on the host (float -> int, int -> int requantize)."""

from __future__ import annotations

import math

from tinyflow.compile.ops.tflm_math import f32, quantize_multiplier
from tinyflow.errors import ModelError

REQUANTIZE_PAIRS = {("int16", "int8"), ("int8", "int8"), ("int8", "uint8"), ("uint8", "int8"), ("int8", "int16"),
                    ("int8", "int32"), ("int16", "int16"), ("int16", "int32"), ("int32", "int8"), ("int32", "int16")}


def prepare(shape, input_dtype: str, output_dtype: str, input_q: tuple[float, int] | None,
            output_q: tuple[float, int]) -> dict:
    """tinyflow_quantize_params_t fields plus the kernel to call ("f32" or "requantize")."""
    size = int(math.prod(int(d) for d in shape))
    if input_dtype == "float32":
        if output_dtype not in ("int8", "int16"):
            raise ModelError(f"QUANTIZE float32 -> {output_dtype} is not supported", "Use --runtime tflm for this model.")
        return {"kernel": "f32", "scale": float(f32(output_q[0])), "input_zero_point": 0,
                "output_zero_point": int(output_q[1]), "multiplier": 0, "shift": 0, "size": size}
    if (input_dtype, output_dtype) not in REQUANTIZE_PAIRS:
        raise ModelError(f"QUANTIZE {input_dtype} -> {output_dtype} is not supported by TFLM or tinyflow",
                         "Use --runtime tflm, or re-quantize the model.")
    multiplier, shift = quantize_multiplier(float(f32(input_q[0])) / float(f32(output_q[0])))
    return {"kernel": "requantize", "scale": float(f32(output_q[0])), "input_zero_point": int(input_q[1]),
            "output_zero_point": int(output_q[1]), "multiplier": multiplier, "shift": shift, "size": size}
