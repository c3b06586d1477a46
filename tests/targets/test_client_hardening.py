"""A SYNC barrier that gets no answer from an in-process device backs off instead of spinning."""

from __future__ import annotations

import time
from collections import OrderedDict

from fake_runtime import FakeRuntime

from tinyflow.protocol import framing as fr
from tinyflow.protocol import messages as m
from tinyflow.targets.client import DeviceClient
from tinyflow.targets.device import PythonDevice, SimPort
from tinyflow.targets.faults import FaultSpec, FaultyPort

TIMEOUT = 1.0
# Doubling pauses from 20 ms, capped at 250 ms: ~ 4 + TIMEOUT / 0.25 attempts in one deadline.
MOST_SYNCS = 12


class _CountingPort(FaultyPort):
    """--inject-faults drop=1 on sim://tflm's in-process port: nothing gets through; SYNCs counted."""

    def __init__(self):
        super().__init__(SimPort(PythonDevice(FakeRuntime((8,)))), FaultSpec(drop=1.0, seed=1))
        self.syncs = 0
        self._scan_syncs = fr.FrameReader()

    def write(self, data) -> int:
        self.syncs += sum(
            1 for ev in self._scan_syncs.feed(bytes(data)) if isinstance(ev, fr.Frame) and ev.type == m.SYNC
        )
        return super().write(data)


def test_an_unanswered_barrier_retries_a_bounded_number_of_times():
    port = _CountingPort()
    assert port.instant  # the case that spun: an empty read returns at once
    client = DeviceClient(port, timeout=TIMEOUT, max_retries=2)
    start = time.monotonic()
    client._barrier(OrderedDict(), [], {})
    elapsed = time.monotonic() - start
    assert 1 <= port.syncs <= MOST_SYNCS, port.syncs
    assert TIMEOUT * 0.9 <= elapsed <= TIMEOUT + 0.5  # it still waits out its deadline, no longer
    assert client.counters.resyncs == 1 and client.counters.timeouts >= 1
