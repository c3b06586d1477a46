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
        raise ModelError(f"PAD paddings {pads.tolist()} do not match input shape {shape}",
                         "The model is malformed; re-export it.")
    value = constant if constant is not None else (output_zero_point if dtype in ("int8", "int16", "uint8") else 0)
    raw = np.asarray([value], dtype=np.dtype(dtype)).astype(np.dtype(dtype).newbyteorder("<")).tobytes()
    out_shape = [d + int(a) + int(b) for d, (a, b) in zip(shape, pads)]
    return {"element_bytes": len(raw), "input_dims": pad_dims(shape), "output_dims": pad_dims(out_shape),
            "left": [0] * (MAX_DIMS - len(shape)) + [int(a) for a, _ in pads],
            "pad_value": list(raw) + [0] * (4 - len(raw))}
