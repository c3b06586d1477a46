"""tinyflow profile on sim://qemu-m4: estimated cycles from the Cortex-M4 timing model, next to the
exact instructions (pure assembly of the report, then the CLI on QEMU)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from tinyflow.targets.machines.cycles import Tally
from tinyflow.workflows import profile as prof
from tinyflow.workflows.config import ProfileConfig
from tinyflow.workflows.cycles import CycleEstimate, FunctionCycles, apply_cycles, attach_profile_mix

INFO = {"runtime": "aot", "board": "nano33ble", "ticks_per_second": 1_000_000, "arena_bytes": 4096}


def _qemu_report():
    from tinyflow.targets.machines import qemu_m4 as sim_qemu

    mem = SimpleNamespace(flash_bytes=20000, ram_bytes=5000, stack_bytes=16384)
    emu = sim_qemu.Emulation(elf=None, memory=mem, board="nano33ble", clock_hz=64e6)
    # 1000 and 2000 instructions per op, 3100 for the whole inference
    return prof.build_report(
        model="m.tflite",
        target="sim://qemu-m4",
        info=INFO,
        op_ticks_runs=[[3200, 6400]],
        total_ticks_runs=[9920],
        op_names=["CONV_2D", "SOFTMAX"],
        emulation=emu,
    )


def _tally(instructions: int, cycles: int) -> Tally:
    t = Tally()
    t.add("alu", instructions, cycles)
    return t


def test_each_op_gets_its_own_cpi_and_the_inference_the_cpi_over_all_ops():
    r = _qemu_report()
    est = CycleEstimate(
        op_tallies=[_tally(2 * 1001, 2 * 1500), _tally(2 * 2002, 2 * 2002)],  # 2 runs, a tick read apart
        functions=[FunctionCycles("conv", 2000, 3000), FunctionCycles("softmax", 4000, 4000)],
        by_class={"alu": [6006, 7004]},
    )
    apply_cycles(r, est, runs=2)
    assert [op.cycles for op in r.ops] == [round(1000 * 1500 / 1001), 2000]
    assert r.estimated_cpi == pytest.approx(7004 / 6006)
    assert r.estimated_cycles == round(3100 * 7004 / 6006)
    text = str(r)
    assert "est. cycles" in text and f"{r.estimated_cycles:,}" in text and "CPI 1.17" in text
    d = json.loads(json.dumps(r.to_dict()))
    assert d["ops"][0]["cycles"] == r.ops[0].cycles and d["estimated_cycles"] == r.estimated_cycles
    assert d["cycle_functions"][0] == {"name": "conv", "instructions": 2000, "cycles": 3000, "cpi": 1.5}
    assert d["cycle_classes"] == {"alu": {"instructions": 6006, "cycles": 7004}}


def test_segments_that_do_not_match_the_ops_give_no_per_op_cycles():
    r = _qemu_report()
    est = CycleEstimate(op_tallies=[_tally(5000, 6000), _tally(2000, 2000)])  # op 0 is 4000 off
    apply_cycles(r, est, runs=1)
    assert all(op.cycles is None for op in r.ops)
    assert r.estimated_cycles == round(3100 * 8000 / 7000)
    assert any("op boundaries" in n for n in r.notes)


def test_other_targets_are_unchanged():
    r = prof.build_report(
        model="m.tflite",
        target="sim://host",
        info=INFO,
        op_ticks_runs=[[100, 300]],
        total_ticks_runs=[400],
        op_names=["CONV_2D", "SOFTMAX"],
    )
    assert r.estimated_cycles is None and "est. cycles" not in str(r)
    assert all(op.cycles is None for op in r.ops)


@pytest.mark.firmware
@pytest.mark.arm
@pytest.mark.qemu
def test_profile_cli_on_qemu_reports_estimated_cycles_next_to_instructions(tmp_path):
    from click.testing import CliRunner

    from conftest import corpus_path, require_tool
    from tinyflow.cli.main import cli

    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    model = corpus_path("tflm/micro_speech_quantized.tflite")
    result = CliRunner().invoke(cli, ["profile", str(model), "--target", "sim://qemu-m4", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert all(op["cycles"] is not None for op in data["ops"])
    assert data["instructions"] < data["estimated_cycles"] < 3 * data["instructions"]
    assert data["cycle_functions"] and data["cycle_classes"]["mac"]["instructions"] > 0
    result = CliRunner().invoke(cli, ["profile", str(model), "--target", "sim://qemu-m4"])
    assert result.exit_code == 0 and "est. cycles" in result.output

    report = prof.profile_model(ProfileConfig(model, target="sim://qemu-m4", runs=1))
    if report.instructions == data["instructions"]:  # the same firmware (not rebuilt in between)
        assert report.estimated_cycles == data["estimated_cycles"]  # deterministic, as the instructions


def test_without_the_plugin_source_the_profile_says_why_and_goes_on(tmp_path, monkeypatch):
    from tinyflow.targets.machines import cycles

    monkeypatch.setattr(cycles, "PLUGIN_SOURCE", tmp_path / "missing.c")
    port = SimpleNamespace(elf=tmp_path / "fw.elf", machine=SimpleNamespace(core="cortex-m4"), restart_with=None)
    mix, notes = attach_profile_mix(port)
    assert mix is None and "no cycle estimate" in notes[0] and "missing.c" in notes[0]
