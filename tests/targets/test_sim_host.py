"""sim://host: compiled corpus models in the real firmware on a pseudo-terminal, vs TFLite Micro."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import corpus_path, require_tool
from tinyflow.targets.client import NUMPY_DTYPES, DeviceClient
from tinyflow.workflows.device import open_device

pytestmark = pytest.mark.firmware


def _random_inputs(info, n, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        out.append(
            [
                rng.integers(
                    np.iinfo(NUMPY_DTYPES[s.dtype]).min,
                    np.iinfo(NUMPY_DTYPES[s.dtype]).max + 1,
                    s.shape,
                    dtype=NUMPY_DTYPES[s.dtype],
                )
                for s in info.inputs
            ]
        )
    return out


# hello_world: inline frames; micro_speech: 1,960-byte input, chunked over the 1,024-byte frame.
@pytest.mark.parametrize("rel", ["tflm/hello_world_int8.tflite", "tflm/micro_speech_quantized.tflite"])
def test_compiled_model_on_sim_host_matches_tflm(rel):
    require_tool("cc")
    from tinyflow.runtimes import tflm

    model = corpus_path(rel).read_bytes()
    port = open_device("sim://host?sanitize=1", model=model, timeout=5.0)
    try:
        client = DeviceClient(port, timeout=5.0)
        info = client.handshake()
        import hashlib

        assert info.model_sha256 == hashlib.sha256(model).digest()[:8] and info.runtime == "aot"
        xs = _random_inputs(info, 8)
        got = [r.outputs for r in client.infer_many(xs, window=3)]
        want = tflm.run(model, [x if len(x) > 1 else x[0] for x in xs])
        for g, w in zip(got, want):
            for a, b in zip(g, w):
                np.testing.assert_array_equal(a.reshape(b.shape), b)
        assert client.stats().arena_used == info.arena_bytes and len(client.profile()) == info.num_ops
    finally:
        port.close()
    assert "runtime error" not in port.stderr_text(), port.stderr_text()


def test_reset_restarts_the_process_with_the_next_boot_count():
    require_tool("cc")
    port = open_device("sim://host?fake=1", timeout=2.0)
    try:
        client = DeviceClient(port)
        assert client.handshake().boot_count == 0
        port.reset()
        assert client.handshake().boot_count == 1 and client.counters.resets == 1
    finally:
        port.close()


def test_sim_host_without_a_model_is_a_usage_error():
    from tinyflow.errors import UsageError

    with pytest.raises(UsageError, match="needs a model"):
        open_device("sim://host")
