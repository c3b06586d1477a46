"""A trivial Runtime for link tests: the same function as firmware/tests/fake_model.c."""

from __future__ import annotations

import numpy as np

from tinyflow.protocol.messages import TensorSpec
from tinyflow.targets.device import ModelInfo, Runtime


def fake_outputs(blob: bytes, n_out: int = 12) -> bytes:
    """out[j] = (int8)(sum_i in[i] * (i % 7 + j + 1) + j), over all inputs concatenated."""
    x = np.frombuffer(blob, dtype=np.int8).astype(np.int64)
    w = np.arange(len(x)) % 7
    return bytes(int((x * (w + j + 1)).sum() + j) & 0xFF for j in range(n_out))


class FakeRuntime(Runtime):
    """Inputs of the given sizes (int8), one output of n_out bytes."""

    def __init__(self, input_sizes=(490,), n_out: int = 12):
        self.input_sizes, self.n_out = list(input_sizes), n_out
        self.invocations = 0
        self.resets = 0

    def model_info(self) -> ModelInfo:
        ins = [TensorSpec(9, (1, n), 0.5, -3, n) for n in self.input_sizes]
        return ModelInfo(
            "fake",
            "fake_model",
            ins,
            [TensorSpec(9, (1, self.n_out), 1 / 256, -128, self.n_out)],
            ["FAKE_SUM", "FAKE_WAIT"],
            b"\xde\xad\xbe\xef\x01\x02\x03\x04",
            1234,
            4096,
        )

    def invoke(self, inputs):
        self.invocations += 1
        return [fake_outputs(b"".join(inputs), self.n_out)], [10, 20]

    def reset(self):
        self.resets += 1
