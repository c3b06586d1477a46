"""LiteRT (ai_edge_litert) on the host: TensorFlow Lite's interpreter without TensorFlow.

It runs in this process: it only ever sees models that passed tinyflow's reader (shapes, sizes)
first, and the quantize report feeds it models tinyflow's own converter just produced. Its
built-in kernels without the default XNNPACK delegate give TFLM's int8 outputs on the corpus
(tests/runtimes/test_interface.py).
"""

from __future__ import annotations

import numpy as np

from tinyflow.errors import ModelError
from tinyflow.runtimes import Runtime, dequantize, model_data, quantize_input


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


def run_float(model_bytes: bytes, x: np.ndarray) -> np.ndarray:
    """Float outputs of the first output tensor for each sample of `x`, run one by one (batch 1)."""
    interp = litert_interpreter(model_bytes)
    ind, outd = interp.get_input_details()[0], interp.get_output_details()[0]
    out = []
    for sample in np.asarray(x):
        interp.set_tensor(ind["index"], quantize_input(sample[None], ind))
        interp.invoke()
        out.append(dequantize(interp.get_tensor(outd["index"])[0], *outd["quantization"]))
    return np.stack(out) if out else np.zeros((0,))


class LiteRtRuntime(Runtime):
    """One model in a LiteRT interpreter of its own (in this process)."""

    name = "litert"

    def __init__(self, model):
        from importlib.metadata import PackageNotFoundError, version

        from tinyflow.tflite import read_model

        data = model_data(model)
        self.model = read_model(data)
        self._interp = litert_interpreter(data)
        self._inputs = [d["index"] for d in self._interp.get_input_details()]
        self._outputs = [d["index"] for d in self._interp.get_output_details()]
        try:
            self.reference = f"LiteRT {version('ai-edge-litert')}"
        except PackageNotFoundError:
            self.reference = "LiteRT"

    def _invoke(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        self._interp.reset_all_variables()  # each sample starts from zero state, as in TFLM's run
        try:
            for index, a in zip(self._inputs, arrays):
                self._interp.set_tensor(index, a)
            self._interp.invoke()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"LiteRT failed invoking the model: {exc}", "Check the .tflite file.") from None
        return [np.array(self._interp.get_tensor(i)) for i in self._outputs]

    def reset(self) -> None:
        self._interp.reset_all_variables()

    def close(self) -> None:
        self._interp = None
