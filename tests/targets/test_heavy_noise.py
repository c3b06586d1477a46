"""Recovery under heavy noise (issue 9, defect 11): barriers need only a short SYNC frame, so a link
that corrupts every long frame (the HELLO reply) but lets small ones through still delivers every
sample exactly once. The long HELLO is needed once, at the handshake."""

from __future__ import annotations

import numpy as np
import pytest
from fake_runtime import FakeRuntime, fake_outputs

from conftest import corpus_path
from tinyflow.protocol import messages as m
from tinyflow.targets.client import DeviceClient
from tinyflow.targets.device import PythonDevice, SimPort
from tinyflow.targets.faults import wrap_port
from tinyflow.workflows.config import EvalConfig
from tinyflow.workflows.evaluate import evaluate

HELLO_WORLD = "tflm/hello_world_int8.tflite"  # 1-byte input and output: small frames
# At ber=2e-3 sim://tflm's HELLO reply (179 B on the wire) survives 1 time in 18; at 4e-3 sim://host's
# (115 B) 1 time in 40, while a SYNC exchange (14 + 18 B) gets through 3 times in 5 and 1 time in 3.

CASES = (
    [pytest.param("sim://tflm", "ber=2e-3", seed, id=f"tflm-2e-3-seed{seed}") for seed in (1, 2, 3)]
    + [pytest.param("sim://host", "ber=2e-3", 1, marks=pytest.mark.firmware, id="host-2e-3-seed1")]
    + [
        pytest.param(
            "sim://host", "ber=4e-3", seed, marks=(pytest.mark.firmware, pytest.mark.slow), id=f"host-4e-3-seed{seed}"
        )
        for seed in (1, 2)
    ]
)  # ~15 s each, more on a loaded machine


@pytest.mark.parametrize("target, ber, seed", CASES)
def test_heavy_noise_loses_and_duplicates_nothing(target, ber, seed):
    r = evaluate(
        EvalConfig(
            corpus_path(HELLO_WORLD), dataset="random:40", target=target, faults=f"{ber},seed={seed}", timeout=1.0
        )
    )
    assert r.samples == 40
    assert r.agreement["exact_match_rate"] == 1.0 and r.agreement["max_abs_diff"] == 0
    assert r.link["lost"] == 0 and r.link["duplicated"] == 0
    assert r.link["injected"]["flipped"] > 20 and r.link["resyncs"] > 0


class _DeviceBeforeSync(PythonDevice):
    """A protocol v1 device built before SYNC existed: it answers SYNC with UNKNOWN_TYPE."""

    def _dispatch(self, f):
        if f.type == m.SYNC:
            return self._error(f.seq, m.ERR_UNKNOWN_TYPE, f.type, 0, f.type, "unknown request type")
        return super()._dispatch(f)


def test_a_device_without_sync_still_recovers_and_counts_every_reset():
    """SYNC is a compatible addition: an older device's UNKNOWN_TYPE answer is a barrier all the same."""
    port = wrap_port(
        SimPort(_DeviceBeforeSync(FakeRuntime((490,)))), faults="ber=1e-4,drop=1e-4,garbage=0.02,reset_every=7,seed=4"
    )
    client = DeviceClient(port, timeout=0.5, seed=2, max_retries=60)
    rng = np.random.default_rng(3)
    xs = [rng.integers(-128, 128, (1, 490), dtype=np.int8) for _ in range(40)]
    results = list(client.infer_many(xs, window=4))
    assert [r.raw for r in results] == [fake_outputs(x.tobytes()) for x in xs]
    assert client.counters.resyncs > 0 and client.counters.resets == port.injected["resets"] > 0
