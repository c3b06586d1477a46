"""The same C core built with -DTINYFLOW_PROTOCOL_EEMBC=1, driven with MLPerf Tiny runner commands."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import require_tool
from tinyflow.build.host import build_host_firmware
from tinyflow.targets.machines.host import ProcessPort

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "targets"))
from fake_runtime import fake_outputs  # noqa: E402

pytestmark = pytest.mark.firmware


@pytest.fixture(scope="module")
def port():
    require_tool("cc")
    exe = build_host_firmware(fake={"FAKE_IN0_BYTES": 300, "FAKE_IN1_BYTES": 190}, sanitize=True, eembc=True)
    p = ProcessPort([exe], timeout=0.3)
    yield p
    p.close()
    assert "runtime error" not in p.stderr_text() and "ERROR" not in p.stderr_text(), p.stderr_text()


def command(port, text: str) -> list[str]:
    """Send one command and read its reply up to m-ready."""
    port.write(text.encode())
    out = b""
    deadline = time.monotonic() + 10
    while not out.endswith(b"m-ready\r\n"):
        assert time.monotonic() < deadline, out
        out += port.read(max(1, port.in_waiting))
    return out.decode().split("\r\n")[:-1]


def test_silent_until_asked(port):
    assert port.read(100) == b""  # the runner expects no banner when it opens the port


def test_name_profile_help(port):
    assert command(port, "name%") == ["m-name-dut-[tinyflow host]", "m-ready"]
    assert command(port, "profile%") == [
        "m-profile-[ULPMark for tinyML Firmware V0.0.1]",
        "m-model-[fake_model]",
        "m-ready",
    ]
    assert command(port, "help%")[-1] == "m-ready"


def test_db_load_infer_results(port):
    x = np.random.default_rng(3).integers(-128, 128, 490, dtype=np.int8).tobytes()
    assert command(port, "db load 490%") == ["m-[Expecting 490 bytes]", "m-ready"]
    for i in range(0, 490, 64):  # the runner sends the data in slices of hex pairs
        lines = command(port, f"db {x[i : i + 64].hex()}%")
    assert lines == ["m-load-done", "m-ready"]
    lines = command(port, "infer 3 1%")
    assert lines[:3] == ["m-warmup-start-1", "m-warmup-done", "m-infer-start-3"]
    t0, t1 = (int(ln.removeprefix("m-lap-us-")) for ln in lines[3:5])
    assert 0 <= (t1 - t0) % 2**32 < 10_000_000 and lines[5] == "m-infer-done"
    expected = [(b - (-128)) / 256 for b in np.frombuffer(fake_outputs(x), dtype=np.int8).astype(int)]
    got = [float(v) for v in lines[6].removeprefix("m-results-[").removesuffix("]").split(",")]
    assert got == pytest.approx(expected, abs=6e-4)
    assert command(port, "results%")[0] == lines[6]


def test_errors_still_end_with_ready(port):
    assert command(port, "bogus%") == ["e-[Unknown command: bogus]", "m-ready"]
    assert command(port, "db load 99999%")[0].startswith("e-[")
    assert command(port, "infer 0%")[0] == "e-[Inference iterations must be >0]"
    assert command(port, "db zz%")[0] == "e-[Invalid hex digit 'zz']"
    assert command(port, "x" * 400 + "%")[0].startswith("e-[Command longer")
    assert command(port, "name%")[0].startswith("m-name-dut")  # still in step after the errors


def test_runner_may_close_and_reopen_the_port_mid_run():
    """The runner opens the port, loads data, closes it, reopens it and continues."""
    import serial

    from tinyflow.workflows.serve import serve

    require_tool("cc")
    with serve(url="sim://host?fake=1&protocol=eembc") as dut:
        port = serial.Serial(dut.path, 115200, timeout=0.3)
        assert port.read(64) == b""  # nothing on open
        assert command(port, "db load 490%") == ["m-[Expecting 490 bytes]", "m-ready"]
        assert command(port, "db " + "01" * 100 + "%") == ["m-ready"]
        port.close()
        port = serial.Serial(dut.path, 115200, timeout=0.3)
        assert port.read(64) == b""  # still nothing on reopen
        assert command(port, "db " + "02" * 120 + "%") == ["m-ready"]
        assert command(port, "db " + "03" * 125 + "%") == ["m-ready"]
        assert command(port, "db " + "04" * 125 + "%") == ["m-ready"]
        assert command(port, "db " + "05" * 20 + "%") == ["m-load-done", "m-ready"]
        x = bytes([1] * 100 + [2] * 120 + [3] * 125 + [4] * 125 + [5] * 20)
        lines = command(port, "infer 1 0%")
        want = [(b + 128) / 256 for b in np.frombuffer(fake_outputs(x), dtype=np.int8).astype(int)]
        got = [float(v) for v in lines[-2].removeprefix("m-results-[").removesuffix("]").split(",")]
        assert got == pytest.approx(want, abs=6e-4)
        port.close()
        assert dut.stderr_text() == ""
