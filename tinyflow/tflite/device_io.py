"""What a tinyflow device can serve as a model's inputs and outputs, checked once on the host.

The firmware core (firmware/src/device.c) and the wire format (tinyflow.protocol) carry 1 to 16
inputs and outputs, each of a dtype the link knows, at most 6 dimensions and at least one value
per input. A model outside that used to compile and generate firmware that then refused to serve
(HELLO status -100/-101) or mislabelled a BOOL tensor; `compile`, `firmware generate`, `eval` and
sim://tflm now refuse it up front with one ModelError. Rank-0 (scalar) tensors are fine: one value.
"""

from __future__ import annotations

from tinyflow.errors import ModelError
from tinyflow.tflite.dtypes import LINK_TYPES as _LINK

MAX_TENSORS = 16  # MAX_TENSORS in firmware/src/device.c
MAX_DIMS = 6  # TINYFLOW_MAX_DIMS in firmware/include/tinyflow/model.h
LINK_TYPES = tuple(t.name for t in _LINK)
_HINT = "Export the model with 1 to 16 int8 (or float32/int16/int32/uint8) inputs and outputs."


def check_device_io(model, max_tensors: int | None = MAX_TENSORS) -> None:
    """Raise ModelError unless a tinyflow device can serve `model`'s inputs and outputs.

    Args:
        model: a tinyflow.tflite.TfliteModel.
        max_tensors: the core's limit on inputs and on outputs; None for the compiled C alone
            (model.h describes any number, and host test harnesses run more than the core serves).
    """
    for kind, ids in (("inputs", model.inputs), ("outputs", model.outputs)):
        if not ids or max_tensors is not None and len(ids) > max_tensors:
            raise ModelError(f"The model has {len(ids)} {kind}; a tinyflow device serves 1 to {MAX_TENSORS}", _HINT)
        for i in ids:
            t = model.tensors[i]
            what = f"{kind[:-1].capitalize()} {t.name!r}"
            if t.type_name not in LINK_TYPES:
                raise ModelError(
                    f"{what} is {t.type_name}; the device link carries only {', '.join(LINK_TYPES)}",
                    "Quantize the model's inputs and outputs to int8 (or CAST them inside the model).",
                )
            if len(t.shape) > MAX_DIMS:
                raise ModelError(
                    f"{what} has rank {len(t.shape)} ({list(t.shape)}); the device link carries at most "
                    f"{MAX_DIMS} dimensions",
                    "Reshape the model's inputs and outputs.",
                )
            if kind == "inputs" and t.size == 0:
                raise ModelError(f"{what} has shape {list(t.shape)}: no values to send", _HINT)
