"""tinyflow profile: report assembly (pure), table/JSON/HTML output, and the real run on QEMU."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from tinyflow.workflows import profile as prof
from tinyflow.workflows.config import ProfileConfig

INFO = {"runtime": "aot", "board": "nano33ble", "ticks_per_second": 1_000_000, "arena_bytes": 4096}
STATS = {"arena_used": 3000, "stack_high_water": 812}


def _report(**kw):
    args = dict(
        model="m.tflite",
        target="sim://host",
        info=INFO,
        op_ticks_runs=[[100, 300, 50], [120, 280, 50], [90, 310, 60]],
        total_ticks_runs=[470, 460, 480],
        op_names=["CONV_2D", "FULLY_CONNECTED", "SOFTMAX"],
        stats=STATS,
    )
    args.update(kw)
    return prof.build_report(**args)


def test_report_takes_the_median_per_op_and_shares_of_the_whole():
    r = _report()
    assert [op.ticks for op in r.ops] == [100, 300, 50]
    assert r.total_ticks == 470 and r.runs == 3
    assert r.ops[1].share == pytest.approx(300 / 470)
    assert r.coverage == pytest.approx(450 / 470)
    assert r.ops[0].microseconds == pytest.approx(100.0)
    assert (r.arena_used, r.stack_high_water, r.arena_bytes) == (3000, 812, 4096)


def test_table_json_and_html_say_what_matters(tmp_path):
    r = _report()
    text = str(r)
    assert "FULLY_CONNECTED" in text and "63.8%" in text and "812 B" in text
    d = json.loads(json.dumps(r.to_dict()))
    assert d["ops"][2]["name"] == "SOFTMAX" and d["coverage"] == pytest.approx(450 / 470)
    page = r.write_html(tmp_path).read_text()
    # one bar per op in matplotlib's chart, labelled with the op; the table gives the shares
    assert page.count("<svg") == 1 and "aria-label='Time per op'" in page and "63.8%" in page
    assert page.count("FULLY_CONNECTED") == 2  # the chart's label and the table's row


def test_emulation_turns_ticks_into_exact_instructions_and_elf_memory():
    from tinyflow.targets.machines import qemu_m4 as sim_qemu

    mem = SimpleNamespace(flash_bytes=20000, ram_bytes=5000, stack_bytes=16384)
    emu = sim_qemu.Emulation(elf=None, memory=mem, board="nano33ble", clock_hz=64e6)
    r = _report(op_ticks_runs=[[3200, 6401]], total_ticks_runs=[9921], emulation=emu)
    assert [op.instructions for op in r.ops] == [1000, 2000]
    assert r.instructions == 3100
    assert (r.flash_bytes, r.ram_bytes) == (20000, 5000) and "ELF" in r.memory_source
    assert "instructions" in str(r) and "estimate" in str(r)


@pytest.mark.arm
@pytest.mark.qemu
def test_profile_on_qemu_per_op_instructions_add_up_to_the_inference(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from conftest import corpus_path, require_tool
    from tinyflow.cli.main import cli

    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    monkeypatch.setenv("TINYFLOW_CACHE", str(tmp_path / "cache"))
    model = corpus_path("tflm/micro_speech_quantized.tflite")
    report = prof.profile_model(ProfileConfig(model, target="sim://qemu-m4?board=nano33ble", runs=2))
    names = [op.name for op in report.ops]
    assert "DEPTHWISE_CONV_2D" in names and "FULLY_CONNECTED" in names  # RESHAPE may be an alias
    assert 0.95 <= report.coverage <= 1.0
    assert sum(op.instructions for op in report.ops) <= report.instructions
    assert report.flash_bytes > 18_000 and report.ram_bytes > 0 and report.stack_high_water > 0
    assert report.arena_used and report.board == "nano33ble"

    result = CliRunner().invoke(
        cli, ["profile", str(model), "--target", "sim://qemu-m4", "--json", "--report", str(tmp_path / "rep")]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["instructions"] == report.instructions  # deterministic across emulator runs
    page = (tmp_path / "rep" / "profile.html").read_text()
    # one chart (matplotlib's SVG); each op named in the chart's labels and in the table
    assert page.count("<svg") == 1 and all(page.count(op.name) >= 2 for op in report.ops)


# ---- hostile inputs (issue #9) ----------------------------------------------------------------------


def test_random_inputs_of_a_scalar_input_model():
    import numpy as np

    info = {"inputs": [{"dtype": "int8", "shape": []}, {"dtype": 9, "shape": (2, 3)}]}
    scalar, matrix = prof.random_inputs(info, np.random.default_rng(0))
    assert scalar.shape == () and scalar.dtype == np.int8
    assert matrix.shape == (2, 3) and matrix.dtype == np.int8


def test_the_timeout_reaches_the_device_client(tmp_path, monkeypatch):
    from conftest import corpus_path
    from tinyflow.errors import LinkError
    from tinyflow.targets import client

    seen = {}

    class Port:
        def close(self):
            seen["closed"] = True

    class Silent:
        def __init__(self, port, **kwargs):
            seen.update(kwargs)

        def handshake(self):
            raise LinkError("No reply")

    monkeypatch.setattr(prof, "_open", lambda target, model, board, timeout: seen.update(open=timeout) or Port())
    monkeypatch.setattr(client, "DeviceClient", Silent)
    with pytest.raises(LinkError):
        prof.profile_model(ProfileConfig(corpus_path("tflm/hello_world_int8.tflite"), target="sim://host", timeout=0.7))
    assert seen == {"open": 0.7, "timeout": 0.7, "closed": True}


@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), 0, -1])
def test_profile_refuses_a_timeout_that_never_comes(timeout):
    from conftest import corpus_path
    from tinyflow.errors import UsageError

    with pytest.raises(UsageError, match="finite number of seconds above 0"):
        prof.profile_model(
            ProfileConfig(corpus_path("tflm/hello_world_int8.tflite"), target="sim://host", timeout=timeout)
        )


def test_profile_cli_passes_timeout_like_eval(monkeypatch):
    from click.testing import CliRunner

    from conftest import corpus_path
    from tinyflow.cli.main import cli

    seen = {}

    def fake(config):
        seen.update(timeout=config.timeout)
        return prof.build_report(
            model="m.tflite",
            target=config.target,
            info=INFO,
            op_ticks_runs=[[1]],
            total_ticks_runs=[1],
            op_names=["ADD"],
            stats=STATS,
        )

    monkeypatch.setattr(prof, "profile_model", fake)
    model = str(corpus_path("tflm/hello_world_int8.tflite"))
    res = CliRunner().invoke(cli, ["profile", model, "--timeout", "0.5"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert seen["timeout"] == 0.5
    res = CliRunner().invoke(cli, ["profile", model, "--timeout", "nan"], catch_exceptions=False)
    assert res.exit_code == 2 and "'nan' is not a finite number" in res.output
