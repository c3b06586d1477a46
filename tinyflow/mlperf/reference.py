"""The DUT's I/O conventions on the TFLM reference kernels, in Python: what a reference DUT
would answer for each input (accuracy mode of `--target sim://tflm`, and the tests' oracle).

Each step uses the firmware's float32 arithmetic (firmware/src/eembc.c): AD inputs quantized
with round-half-away-from-zero, outputs dequantized in float32, the AD error accumulated in
order in float32, and every value printed with 3 decimals as the device prints it.
"""

from __future__ import annotations

import numpy as np

from tinyflow.errors import UsageError
from tinyflow.mlperf.benchmarks import Benchmark
from tinyflow.mlperf.dut import InferReply


def device_milli(values) -> list[float]:
    """Values as the device prints them (firmware out_milli: float32 x 1000, +0.5, truncated)."""
    v = np.asarray(values, dtype=np.float32).ravel()
    scaled = np.abs(v) * np.float32(1000.0)
    milli = np.floor(scaled + np.float32(0.5)).astype(np.float64)
    return [float(m / 1000.0 * (-1.0 if s else 1.0)) for m, s in zip(milli, np.signbit(v))]


def wire_to_input(data: bytes, bench: Benchmark, spec) -> np.ndarray:
    """The model input the device makes of the bytes the runner sent."""
    if bench.wire == "float32":
        values = np.frombuffer(data, dtype="<f4")
        if np.dtype(spec.dtype) != np.int8:
            return values.reshape(spec.shape)
        q = values / np.float32(spec.scale[0])
        q = np.sign(q) * np.floor(np.abs(q) + np.float32(0.5))  # C round(): half away from zero
        q = np.clip(np.nan_to_num(q), -1000, 1000) + int(spec.zero_point[0])
        return np.clip(q, -128, 127).astype(np.int8).reshape(spec.shape)
    raw = np.frombuffer(data, dtype=np.uint8)
    if bench.wire == "uint8" and np.dtype(spec.dtype) == np.int8:
        raw = raw ^ np.uint8(0x80)  # uint8 - 128, as the reference DUTs do on the device
    return raw.view(np.dtype(spec.dtype)).reshape(spec.shape)


def dequantized(q: np.ndarray, spec) -> np.ndarray:
    """float32 (q - zero_point) * scale, as the device computes it."""
    if np.dtype(spec.dtype) == np.float32:
        return np.asarray(q, np.float32).ravel()
    diff = (q.astype(np.int32).ravel() - int(spec.zero_point[0])).astype(np.float32)
    return diff * np.float32(spec.scale[0])


def reconstruction_error(output: np.ndarray, inputs: np.ndarray) -> np.float32:
    """Mean squared error summed in order in float32 (the firmware's loop)."""
    diff = output.astype(np.float32) - inputs.astype(np.float32)
    total = np.cumsum(diff * diff, dtype=np.float32)[-1]
    return np.float32(total / np.float32(diff.size))


class ReferenceDut:
    """EembcDut's interface (model, load, infer) answered by the TFLM reference kernels."""

    def __init__(self, model: bytes, bench: Benchmark):
        from tinyflow.runtimes import open_runtime

        self.bench = bench
        self._rt = open_runtime("tflm", model)
        self._in = self._rt.model.tensors[self._rt.model.inputs[0]]
        self._out = self._rt.model.tensors[self._rt.model.outputs[0]]
        self._data: bytes | None = None

    def model(self) -> str:
        return self.bench.id

    def name(self) -> str:
        return "tflm reference kernels"

    def load(self, data: bytes) -> None:
        self._data = bytes(data)

    def infer(self, iterations: int, warmups: int, timeout: float | None = None) -> InferReply:
        if self._data is None:
            raise UsageError("Nothing loaded", "Load an input first.")
        x = wire_to_input(self._data, self.bench, self._in)
        out = dequantized(self._rt.invoke(x)[0], self._out)
        if self.bench.anomaly:
            values = np.frombuffer(self._data, dtype="<f4")
            results = device_milli([reconstruction_error(out, values)])
        else:
            results = device_milli(out)
        return InferReply(iterations, warmups, 0, 0, results)

    def close(self) -> None:
        self._rt.close()
