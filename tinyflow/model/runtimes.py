"""Run .tflite bytes on the host: LiteRT (ai_edge_litert) and the TFLite Micro reference runtime.

Both take and return float arrays (samples first): inputs are quantized with the model's input
scale/zero-point and outputs dequantized, so float and int8 models are compared on one scale.
No TensorFlow here. TFLM goes through `tinyflow.tflm.run` (H2) when it exists, else through
`tflite_micro.runtime` directly behind `_tflm_raw` (the one function to swap).
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

    try:
        with warnings.catch_warnings():  # preserve_all warns that it is for debugging: it is
            warnings.simplefilter("ignore")
            # No default delegate: XNNPACK would fuse ops into one DELEGATE node and hide layers.
            interp = Interpreter(model_content=bytes(model_bytes), experimental_preserve_all_tensors=preserve_all,
                                 experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
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
    """Float outputs of the TFLM reference runtime (the oracle for what a board computes)."""
    interp = litert_interpreter(model_bytes)  # only to read the I/O quantization
    ind, outd = interp.get_input_details()[0], interp.get_output_details()[0]
    q = [quantize_input(sample[None], ind) for sample in np.asarray(x)]
    raw = _tflm_raw(model_bytes, q)
    return np.stack([dequantize(np.asarray(r).reshape(outd["shape"])[0], *outd["quantization"]) for r in raw])


def _tflm_raw(model_bytes: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    try:
        from tinyflow import tflm  # H2's runtime wrapper, once it lands
    except ImportError:
        tflm = None
    if tflm is not None and hasattr(tflm, "run"):
        outs = tflm.run(bytes(model_bytes), inputs)
        return [o[0] if isinstance(o, (list, tuple)) else o for o in outs]
    from tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(bytes(model_bytes), arena_size=max(64 * 1024, 10 * len(model_bytes)))
    out = []
    for sample in inputs:
        interp.set_input(sample, 0)
        interp.invoke()
        out.append(np.array(interp.get_output(0)))
    return out
