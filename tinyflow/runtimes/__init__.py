"""The host references in one place, behind one small interface: a model run on this computer.

- `tflm`: the TFLite Micro reference runtime (the pinned tflite_micro wheel), always in a worker
  child (`_worker`), with the arena measurement in probe children (`_probe`);
- `litert`: LiteRT (ai_edge_litert, no TensorFlow), in this process;
- `compiled`: the model compiled to C by tinyflow.compile, built as a host shared library.

`open_runtime(kind, model)` returns a `Runtime`: `run(samples)` gives one list of output arrays
per sample (each sample independent: variable tensors start from zero), `invoke(sample)` one
sample's, `reset()`, `close()`, and it is a context manager. Evaluation (the host reference),
sim://tflm and the quantize report use it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinyflow.errors import DataError, ModelError, UsageError

KINDS = ("tflm", "litert", "compiled")


class Runtime:
    """One model loaded in a host runtime. Subclasses set `model` (a TfliteModel) and implement
    `_invoke(arrays) -> outputs` (one conformed array per model input, variable tensors reset)."""

    name = ""  # the kind: tflm | litert | compiled
    reference = ""  # what computes the outputs, for reports (e.g. "wheel (tflite-micro ...)")
    model = None

    def run(self, samples) -> list[list[np.ndarray]]:
        """Invoke the model once per sample.

        Args:
            samples: a sequence of samples (or an array whose first axis is samples). A sample is
                one array (or a one-item list) for a one-input model, else one array per model
                input; each is reshaped to its input tensor's shape and must have its dtype.
        Returns:
            One list per sample, holding one array per model output (tensor shape and dtype).
        Raises:
            DataError: a sample of the wrong dtype, size or input count.
            ModelError: the runtime failed on a sample (naming it).
        """
        out = []
        for i, sample in enumerate(samples):
            arrays = conform_sample(self.model, sample, i)
            try:
                out.append(self._invoke(arrays))
            except ModelError as exc:
                raise ModelError(f"Sample {i}: {exc.message}", exc.hint) from None
        return out

    def invoke(self, sample) -> list[np.ndarray]:
        """The outputs of one sample (a sample as in run); errors are not prefixed with its index."""
        return self._invoke(conform_sample(self.model, sample, 0))

    def _invoke(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        raise NotImplementedError

    def reset(self) -> None:
        """Set every variable tensor (SVDF/LSTM state) back to zero."""

    def close(self) -> None:
        """Release the runtime (a child process, an interpreter, a library)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_runtime(kind: str, model, **opts) -> Runtime:
    """Load `model` (.tflite bytes, path or TfliteModel) in the host runtime `kind` (see KINDS).

    Options go to the runtime's class: tflm `cached` (share the process's worker for this model,
    the default; False starts a worker the runtime owns), compiled `sanitize`.
    Raises:
        UsageError: an unknown kind. ModelError: the runtime cannot load the model.
    """
    if kind == "tflm":
        from tinyflow.runtimes.tflm import TflmRuntime as cls
    elif kind == "litert":
        from tinyflow.runtimes.litert import LiteRtRuntime as cls
    elif kind == "compiled":
        from tinyflow.runtimes.compiled import CompiledRuntime as cls
    else:
        raise UsageError(f"Unknown host runtime {kind!r}", f"Use one of {', '.join(KINDS)}.")
    return cls(model, **opts)


def model_data(model) -> bytes:
    """The .tflite bytes of `model` (bytes, path or TfliteModel)."""
    from tinyflow.tflite import TfliteModel, read_model_file

    if isinstance(model, TfliteModel):
        return model.data
    if isinstance(model, (str, Path)):
        return read_model_file(model)
    return bytes(model)


def conform_sample(model, sample, i: int) -> list[np.ndarray]:
    """One C-ordered array per model input, in the input tensor's shape (a scalar input stays rank 0).

    Raises:
        DataError: wrong input count, dtype or number of values (naming sample `i`).
    """
    one = len(model.inputs) == 1 and not (isinstance(sample, (list, tuple)) and len(sample) == 1)
    arrays = [sample] if one else list(sample)
    if len(arrays) != len(model.inputs):
        raise DataError(
            f"Sample {i} has {len(arrays)} inputs but the model takes {len(model.inputs)}",
            "Pass one array per model input.",
        )
    return [_conform(np.asarray(x), model.tensors[ti], i) for x, ti in zip(arrays, model.inputs)]


def _conform(x: np.ndarray, t, i: int) -> np.ndarray:
    if x.dtype != t.dtype:
        raise DataError(
            f"Sample {i} for input {t.name} is {x.dtype} but the model wants {t.dtype}",
            "Quantize the input with the input tensor's scale and zero point first.",
        )
    if x.size != t.size:
        raise DataError(
            f"Sample {i} for input {t.name} has {x.size} values but shape {list(t.shape)} needs {t.size}",
            "Check the sample shape.",
        )
    return np.asarray(x.reshape(t.shape), order="C")  # keeps a scalar input rank 0


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
