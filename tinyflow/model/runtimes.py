"""Run .tflite bytes on the host: LiteRT (ai_edge_litert) and the TFLite Micro reference runtime.

Both take and return float arrays (samples first): inputs are quantized with the model's input
scale/zero-point and outputs dequantized, so float and int8 models are compared on one scale.
No TensorFlow here. TFLM runs through `tinyflow.tflm.run`, in a worker child. LiteRT runs in this
process: it only ever sees models tinyflow's own converter just produced (quantize), and those
pass tinyflow's reader (shapes, sizes) first.
"""

from __future__ import annotations

import numpy as np

from tinyflow.errors import ModelError


def quantize_input(x: np.ndarray, detail: dict) -> np.ndarray:
    """Float -> the input tensor's dtype using its (scale, zero_point); float inputs pass through."""
    dtype = np.dtype(detail["dtype"])
    if dtype == np.float32:
        return np.asarray(x, np.float32)
    scale, zp = detail["quantization"]
    info = np.iinfo(dtype)
    return np.clip(np.round(np.asarray(x, np.float64) / scale + zp), info.min, info.max).astype(dtype)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """int8 -> float; float arrays (scale 0) pass through."""
    if not scale:
        return np.asarray(q, np.float32)
    return ((np.asarray(q, np.float64) - zero_point) * scale).astype(np.float32)


def litert_interpreter(model_bytes: bytes, preserve_all: bool = False):
    """An allocated LiteRT interpreter (preserve_all keeps every intermediate tensor readable)."""
    import warnings

    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from tinyflow.tflite import read_model

    read_model(model_bytes)  # ModelError for absurd shapes or sizes before LiteRT allocates anything
    try:
        with warnings.catch_warnings():  # preserve_all warns that it is for debugging: it is
            warnings.simplefilter("ignore")
            # No default delegate: XNNPACK would fuse ops into one DELEGATE node and hide layers.
            interp = Interpreter(
                model_content=bytes(model_bytes),
                experimental_preserve_all_tensors=preserve_all,
                experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
            )
        interp.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"LiteRT cannot load the model: {exc}", "Check the .tflite file.") from None
    return interp


def run_litert(model_bytes: bytes, x: np.ndarray) -> np.ndarray:
    """Float outputs of the first output tensor for each sample of `x`, run one by one (batch 1)."""
    interp = litert_interpreter(model_bytes)
    ind, outd = interp.get_input_details()[0], interp.get_output_details()[0]
    out = []
    for sample in np.asarray(x):
        interp.set_tensor(ind["index"], quantize_input(sample[None], ind))
        interp.invoke()
        out.append(dequantize(interp.get_tensor(outd["index"])[0], *outd["quantization"]))
    return np.stack(out) if out else np.zeros((0,))


def run_tflm(model_bytes: bytes, x: np.ndarray) -> np.ndarray:
    """Float outputs of the first output tensor in the TFLM reference runtime (the oracle for what a
    board computes), one sample at a time in a worker child (tinyflow.tflm.run)."""
    from tinyflow import tflm
    from tinyflow.tflite import read_model

    m = read_model(model_bytes)
    tin, tout = m.tensors[m.inputs[0]], m.tensors[m.outputs[0]]
    ind = {"dtype": tin.dtype, "quantization": _qparams(tin)}
    outs = tflm.run(bytes(model_bytes), [quantize_input(sample[None], ind) for sample in np.asarray(x)])
    return np.stack([dequantize(np.asarray(o[0]).reshape(tout.shape)[0], *_qparams(tout)) for o in outs])


def _qparams(t) -> tuple[float, int]:
    """(scale, zero_point) of a tensor as LiteRT's details report them; (0.0, 0) when not quantized."""
    return (float(t.scale[0]), int(t.zero_point[0])) if len(t.scale) and len(t.zero_point) else (0.0, 0)
