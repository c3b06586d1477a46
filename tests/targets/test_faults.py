"""Testing aids: fault spec parsing, the seedable injector, the baud-rate throttle."""

from __future__ import annotations

import time

import numpy as np
import pytest
import serial
from fake_runtime import FakeRuntime

from tinyflow.errors import UsageError
from tinyflow.targets.client import DeviceClient
from tinyflow.targets.device import PythonDevice, SimPort
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
        port = FaultyPort(
            serial.serial_for_url("loop://", timeout=0.1), FaultSpec(ber=1e-3, drop=1e-3, dup=1e-3, seed=4)
        )
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
    port.write(bytes(1152))  # 0.1 s at 11,520 B/s
    assert 0.09 <= time.monotonic() - t0 <= 0.3
    port.reset_input_buffer()
    port.inner.write(bytes(range(256)) * 4 + bytes(128))  # the device answers 1,152 B at once
    t0 = time.monotonic()
    data = port.read(1152)  # they arrive at line rate
    assert data == bytes(range(256)) * 4 + bytes(128)
    assert 0.09 <= time.monotonic() - t0 <= 0.3


@pytest.mark.parametrize(
    "bad",
    [
        "ber=nan",
        "drop=nan",
        "dup=inf",
        "garbage=-inf",
        "ber=-0.1",
        "drop=1.5",
        "ber=1e309",
        "reset_every=-3",
        "seed=-1",
    ],
)
def test_non_finite_or_out_of_range_faults_are_refused(bad):
    key = bad.split("=")[0]
    with pytest.raises(UsageError, match=f"'{key}'") as err:
        parse_faults(bad)
    assert "between 0 and 1" in str(err.value.hint) or ">= 0" in str(err.value.hint)


@pytest.mark.parametrize("every", [1, 2, 3, 5, 7])
def test_every_injected_reset_is_counted_exactly_once(every):
    """Two reboots before the host hears from the first still count two (docs/eval.md: resets == injected)."""
    spec = f"ber=1e-4,drop=1e-4,reset_every={every},seed=3"
    port = wrap_port(SimPort(PythonDevice(FakeRuntime((490,)))), faults=spec)
    client = DeviceClient(port, timeout=0.5, seed=1, max_retries=60)
    rng = np.random.default_rng(0)
    results = list(client.infer_many([rng.integers(-128, 128, (1, 490), dtype=np.int8) for _ in range(40)]))
    assert len(results) == 40 and port.injected["resets"] > 0
    assert client.counters.resets == port.injected["resets"] == port.inner.device.boot_count


def test_eval_refuses_a_nan_fault_rate_with_one_usage_line():
    from click.testing import CliRunner

    from conftest import corpus_path
    from tinyflow.cli.main import cli

    r = CliRunner().invoke(
        cli,
        [
            "eval",
            str(corpus_path("tflm/hello_world_int8.tflite")),
            "--dataset",
            "random:2",
            "--inject-faults",
            "ber=1e-4,drop=nan",
            "--no-progress",
        ],
        catch_exceptions=False,
    )
    assert r.exit_code == 2, r.output
    assert r.output.strip().splitlines()[-1] == (
        "Error: Fault 'drop' is a probability, received nan. Use a finite rate between 0 and 1, e.g. drop=1e-4."
    )
