"""`tinyflow boards bench MODEL`: the model x board table (fit, memory, instructions, latency)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import corpus_path, require_tool
from tinyflow.cli.main import cli


def test_unknown_board_fails_before_any_build():
    path = corpus_path("tflm/hello_world_int8.tflite")
    result = CliRunner().invoke(cli, ["boards", "bench", str(path), "--board", "nope"])
    assert result.exit_code == 1
    errors = [ln for ln in result.output.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and "nope" in errors[0], result.output
    assert "Traceback" not in result.output


@pytest.mark.arm
@pytest.mark.qemu
def test_bench_runs_each_board_on_its_core_and_estimates_at_its_clock():
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    path = corpus_path("tflm/hello_world_int8.tflite")
    args = ["boards", "bench", str(path), "-b", "nano33ble", "-b", "nucleo_l4r5zi", "-b", "esp32dev", "-b", "microbit"]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["board"]: r for r in json.loads(result.output)["boards"]}
    nano, nucleo, esp, m0 = rows["nano33ble"], rows["nucleo_l4r5zi"], rows["esp32dev"], rows["microbit"]
    assert nano["simulator"] == nucleo["simulator"] == "sim://qemu-m4" and m0["simulator"] == "sim://qemu-m0"
    # Same core, same instructions; the estimate scales with the clock (64 vs 120 MHz).
    assert nano["instructions"] == nucleo["instructions"] > 0
    assert nano["est_ms"] / nucleo["est_ms"] == pytest.approx(120 / 64, rel=1e-6)
    assert m0["instructions"] > nano["instructions"]  # Thumb-1, portable kernels
    assert esp["fit"].startswith("fits") and esp["instructions"] is None and "no emulated" in esp["note"]
    text = CliRunner().invoke(cli, args)
    assert text.exit_code == 0
    line = next(ln for ln in text.output.splitlines() if ln.startswith("nano33ble"))
    assert f"{nano['instructions']:,}" in line and "sim://qemu-m4" in line
