"""Helpers of the MLPerf Tiny tests: models, seeded wire inputs, EEMBC DUTs on sim://host."""

from __future__ import annotations

import time

import numpy as np

MODELS = {
    "kws01": "mlperf_tiny/kws_ref_model.tflite",
    "ic01": "mlperf_tiny/pretrainedResnet_quant.tflite",
    "vww01": "mlperf_tiny/vww_96_int8.tflite",
    "ad01": "mlperf_tiny/ad01_int8.tflite",
}
WIRE_BYTES = {"kws01": 490, "ic01": 3072, "vww01": 27648, "ad01": 2560}


def wire_input(benchmark: str, seed: int) -> bytes:
    """Seeded bytes as the runner sends them: int8/uint8 values, or AD float32 around the data's range."""
    rng = np.random.default_rng(seed)
    if benchmark == "ad01":
        return rng.normal(30.0, 15.0, WIRE_BYTES["ad01"] // 4).astype("<f4").tobytes()
    return rng.integers(0, 256, WIRE_BYTES[benchmark], dtype=np.uint8).tobytes()


def command(port, text: str, timeout: float = 20.0) -> list[str]:
    """Send one command on a raw port and read its reply up to m-ready (line list, m-ready included)."""
    port.write(text.encode())
    out = b""
    deadline = time.monotonic() + timeout
    while not out.endswith(b"m-ready\r\n"):
        assert time.monotonic() < deadline, out
        out += port.read(max(1, port.in_waiting))
    return out.decode().split("\r\n")[:-1]
