"""Testing aids: fault spec parsing, the seedable injector, the baud-rate throttle."""

from __future__ import annotations

import time

import pytest
import serial

from tinyflow.errors import UsageError
from tinyflow.targets.faults import FaultSpec, FaultyPort, ThrottledPort, parse_faults, wrap_port


def test_parse_fault_spec():
    assert parse_faults("ber=1e-4,drop=1e-4,reset_every=500") == FaultSpec(ber=1e-4, drop=1e-4, reset_every=500)
    assert parse_faults("") == FaultSpec() and not parse_faults(None).active
    for bad in ("ber=2", "nope=1", "ber=x", "drop"):
        with pytest.raises(UsageError):
            parse_faults(bad)


def test_injector_is_seeded_and_counts_what_it_did():
    data = bytes(range(256)) * 15  # loop:// holds 4 KiB
    outs = []
    for _ in range(2):
        port = FaultyPort(serial.serial_for_url("loop://", timeout=0.1), FaultSpec(ber=1e-3, drop=1e-3, dup=1e-3, seed=4))
        port.write(data)
        outs.append((port.inner.read(20000), dict(port.injected)))
    assert outs[0] == outs[1]
    got, injected = outs[0]
    assert got != data and injected["flipped"] > 10 and injected["dropped"] > 0 and injected["duplicated"] > 0
    assert len(got) == len(data) - injected["dropped"] + injected["duplicated"]


def test_reset_every_needs_a_resettable_target():
    with pytest.raises(UsageError, match="simulated target"):
        wrap_port(serial.serial_for_url("loop://"), faults="reset_every=10")


def test_throttle_takes_the_line_time_both_ways():
    port = ThrottledPort(serial.serial_for_url("loop://", timeout=0.0), 115200)
    port.timeout = 2.0
    t0 = time.monotonic()
    port.write(bytes(1152))             # 0.1 s at 11,520 B/s
    assert 0.09 <= time.monotonic() - t0 <= 0.3
    port.reset_input_buffer()
    port.inner.write(bytes(range(256)) * 4 + bytes(128))   # the device answers 1,152 B at once
    t0 = time.monotonic()
    data = port.read(1152)              # they arrive at line rate
    assert data == bytes(range(256)) * 4 + bytes(128)
    assert 0.09 <= time.monotonic() - t0 <= 0.3
