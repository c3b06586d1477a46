"""The EEMBC core's reference command set, strings and benchmark conventions (firmware/src/eembc.c),
on the host build. Each test names the defect of issue 10 it guards against."""

from __future__ import annotations

import numpy as np
import pytest
from mlperf_helpers import MODELS, command, wire_input

from conftest import corpus_path, require_tool
from tinyflow.build.host import build_host_firmware
from tinyflow.targets.machines.host import ProcessPort

pytestmark = pytest.mark.firmware

FAKE = {"FAKE_IN0_BYTES": 300, "FAKE_IN1_BYTES": 190}


def fake_dut(benchmark_id: int = 0, fake: dict | None = None, **defines):
    require_tool("cc")
    d = {"TINYFLOW_EEMBC_BENCHMARK": benchmark_id, **defines}
    exe = build_host_firmware(fake={**FAKE, **(fake or {})}, sanitize=True, eembc=True, defines=d)
    return ProcessPort([exe], timeout=0.3)


def model_dut(benchmark: str):
    require_tool("cc")
    from tinyflow.workflows.device import open_device

    data = corpus_path(MODELS[benchmark]).read_bytes()
    return open_device(f"sim://host?protocol=eembc&benchmark={benchmark}", model=data, timeout=0.5), data


def load(port, data: bytes, chunk: int = 31) -> list[str]:
    assert command(port, f"db load {len(data)}%") == [f"m-[Expecting {len(data)} bytes]", "m-ready"]
    for i in range(0, len(data), chunk):
        lines = command(port, f"db {data[i : i + chunk].hex()}%")
    return lines


def results(lines: list[str]) -> list[float]:
    line = next(ln for ln in lines if ln.startswith("m-results-["))
    return [float(v) for v in line.removeprefix("m-results-[").removesuffix("]").split(",")]


@pytest.mark.parametrize("bench_id,name", [(1, "kws01"), (2, "ic01"), (3, "vww01"), (4, "ad01")])
def test_profile_names_the_benchmark_the_runner_looks_up(bench_id, name):
    # Was: m-model-[<model name>], and the runner stopped with AttributeError.
    from tinyflow.build.firmware import EEMBC_BENCHMARK_IDS

    assert EEMBC_BENCHMARK_IDS[name] == bench_id
    port = fake_dut(bench_id)
    try:
        assert command(port, "profile%") == [
            "m-profile-[ULPMark for tinyML Firmware V0.0.1]",
            f"m-model-[{name}]",
            "m-ready",
        ]
    finally:
        port.close()


def test_reference_strings_help_and_refusals():
    port = fake_dut()
    try:
        # Was: infer ran on whatever the input buffer held at boot.
        assert command(port, "infer 1 0%")[0].startswith("e-[No input loaded")
        help_lines = command(port, "help%")
        assert help_lines[0] == "ULPMark for tinyML Firmware V0.0.1" and len(help_lines) >= 10  # was one line
        assert any(ln.startswith("infer N [W=10]") for ln in help_lines)
        assert command(port, "db%") == ["e-[Command 'db' requires a subcommand]", "m-ready"]
        assert command(port, "db load%") == ["e-[Command 'db load' requires the # of bytes]", "m-ready"]
        assert command(port, "db load 0%") == ["e-[Command 'db load' must be >0 bytes]", "m-ready"]
        assert command(port, "db load 491%") == ["e-[Supplied buffer size 491 exceeds maximum of 490]", "m-ready"]
        assert command(port, "db load 4%")[0] == "m-[Expecting 4 bytes]"
        assert command(port, "db 0g%") == ["e-[Invalid hex digit '0g']", "m-ready"]
        assert command(port, "db 012%") == ["e-[Insufficent number of hex digits]", "m-ready"]
        assert command(port, "infer 1 0%")[0].startswith("e-[No input loaded")  # a load is under way
        assert command(port, "db 01020304%") == ["m-load-done", "m-ready"]
        assert command(port, "infer 0%") == ["e-[Inference iterations must be >0]", "m-ready"]
        assert command(port, "infer 1 -1%") == ["e-[Inference warmup must be >=0]", "m-ready"]
        assert command(port, "infer 1 0%")[-2].startswith("m-results-[")
        assert command(port, "%") == ["m-ready"]  # an empty command: the resynchronisation point
        assert command(port, "bogus%") == ["e-[Unknown command: bogus]", "m-ready"]
    finally:
        port.close()
    assert "runtime error" not in port.stderr_text()


def test_db_print_shows_the_loaded_bytes_eight_per_line():
    # Was: `db print` was an unknown command.
    port = fake_dut(2)  # ic01: the bytes are stored minus 128 but printed as they were sent
    try:
        data = bytes(range(200, 211))
        assert load(port, data)[0] == "m-load-done"
        assert command(port, "db print%") == [
            "m-buffer-c8-c9-ca-cb-cc-cd-ce-cf",
            "m-buffer-d0-d1-d2",
            "m-ready",
        ]
        assert command(port, "db print 2 9%") == ["m-buffer-d1-d2", "m-ready"]
    finally:
        port.close()


def test_image_benchmarks_subtract_128_on_the_device():
    # Was: the runner's uint8 pixels went into the int8 input as they were (IC 5.3 %, VWW 50 %).
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "targets"))
    from fake_runtime import fake_outputs

    # One pixel: the fake model's weighted sum then moves by 128 * odd weights (with many
    # pixels the shifts of an even weight sum cancel modulo 256, and no test could tell).
    port = fake_dut(2, fake={"FAKE_IN0_BYTES": 1, "FAKE_IN1_BYTES": 0})
    try:
        pixels = np.array([77], dtype=np.uint8)
        load(port, pixels.tobytes())
        got = results(command(port, "infer 1 0%"))
        as_int8 = (pixels.astype(np.int16) - 128).astype(np.int8).tobytes()
        want = [(b + 128) / 256 for b in np.frombuffer(fake_outputs(as_int8), dtype=np.int8).astype(int)]
        assert got == pytest.approx(want, abs=6e-4)
    finally:
        port.close()


def test_ad_takes_float32_and_answers_the_reconstruction_error():
    # Was: `db load 2560` refused (needs 1..640 bytes) and 640 outputs printed.
    from tinyflow.mlperf.benchmarks import BENCHMARKS
    from tinyflow.mlperf.reference import ReferenceDut

    port, data = model_dut("ad01")
    try:
        x = wire_input("ad01", 3)
        assert load(port, x, 100)[0] == "m-load-done"
        got = results(command(port, "infer 2 1%"))
        ref = ReferenceDut(data, BENCHMARKS["ad01"])
        ref.load(x)
        assert len(got) == 1 and got == ref.infer(1, 0).results
    finally:
        port.close()


def test_the_serve_build_keeps_the_input_across_infer_runs():
    # Was: serve() built without the preserve-inputs plan, so `infer N W` reran on a clobbered input.
    from eembc_client import RunnerLikeClient

    from tinyflow.workflows.serve import serve

    require_tool("cc")
    data = corpus_path(MODELS["kws01"]).read_bytes()
    with serve(data, "sim://host?protocol=eembc&benchmark=kws01") as dev, RunnerLikeClient(dev.path) as dut:
        dut.load(wire_input("kws01", 7))
        once = dut.infer(1, 0)["results"]
        assert dut.infer(5, 3)["results"] == once


def test_a_late_boot_banner_does_not_shift_replies():
    """The reference boot lines arrive before the first reply: the client discards them."""
    from tinyflow.mlperf.dut import EembcDut

    port = fake_dut(1, TINYFLOW_EEMBC_BANNER=1)
    try:
        dut = EembcDut(port, timeout=5)
        assert dut.name() == "tinyflow host"
        assert dut.model() == "kws01"
        dut.load(bytes(490))
        assert len(dut.infer(1, 0).results) == 12
        assert dut.name() == "tinyflow host"  # still aligned
    finally:
        port.close()
