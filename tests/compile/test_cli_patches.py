"""`tinyflow compile --max-ram`: a met budget plans at most that many bytes; an impossible one fails
with one Error line naming the smallest reachable arena, and writes nothing."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import corpus_path
from tinyflow.cli.main import cli

PD = "tflm/person_detect.tflite"


def test_max_ram_met_plans_within_the_budget(tmp_path):
    out = tmp_path / "out"
    args = ["compile", str(corpus_path(PD)), "-o", str(out), "--no-tflm-arena", "--json", "--max-ram", "18444"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert 0 < report["memory"]["activation_bytes"] <= 18444
    assert report["patches"] and all(p["band_rows"] >= 1 for p in report["patches"])
    text = CliRunner().invoke(cli, [*args[:-3], "--force", "--max-ram", "18444"])
    assert text.exit_code == 0 and "patch by patch: ops 0-3 in" in text.output
    assert "tf_shift_rows(" in (out / "person_detect.c").read_text()


def test_max_ram_impossible_is_one_error_line_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli, ["compile", str(corpus_path(PD)), "-o", str(out), "--no-tflm-arena", "--max-ram", "5000"]
    )
    assert res.exit_code == 1
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: The activation arena cannot fit in 5,000 bytes")
    assert "Use --max-ram" in lines[0] and "Traceback" not in res.output
    assert not out.exists() or not any(out.iterdir())


def test_max_ram_zero_is_a_usage_error(tmp_path):
    res = CliRunner().invoke(cli, ["compile", str(corpus_path(PD)), "-o", str(tmp_path / "o"), "--max-ram", "0"])
    assert res.exit_code == 2 and "--max-ram" in res.output


def test_firmware_generate_aot_max_ram_plans_within_the_budget(tmp_path):
    out = tmp_path / "proj"
    args = ["firmware", "generate", str(corpus_path(PD)), "-b", "nano33ble", "--runtime", "aot", "-o", str(out)]
    res = CliRunner().invoke(cli, [*args, "--max-ram", "18444", "--json"])
    assert res.exit_code == 0, res.output
    assert 0 < json.loads(res.output)["arena_bytes"] <= 18444
    assert "tf_shift_rows(" in (out / "lib" / "tinyflow_model" / "src" / "person_detect.c").read_text()


def test_firmware_generate_max_ram_needs_the_compiled_runtime(tmp_path):
    args = ["firmware", "generate", str(corpus_path(PD)), "-b", "nano33ble", "--runtime", "tflm"]
    res = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "p"), "--max-ram", "18444"])
    assert res.exit_code == 2 and "Error: --max-ram applies to the compiled runtime only" in res.output


@pytest.mark.firmware
def test_sim_url_max_ram_builds_a_patched_firmware():
    """`?max_ram=` reaches the compiled firmware (tinyflow profile/eval --target "sim://host?max_ram=...")."""
    from tinyflow.targets.client import DeviceClient
    from tinyflow.workflows.device import open_device
    from tinyflow.workflows.profile import _get

    port = open_device("sim://host?max_ram=18444", model=corpus_path(PD).read_bytes(), timeout=30.0)
    try:
        client = DeviceClient(port)
        client.handshake()
        assert 0 < int(_get(client.stats(), "arena_used")) <= 18444
    finally:
        port.close()


def test_deploy_package_max_ram_reaches_the_compiled_sources(tmp_path):
    from tinyflow.export.package import package_sources

    s = package_sources(corpus_path(PD), "pd", "aot", max_ram=18444)
    assert b"tf_shift_rows(" in next(t for p, t in s.files.items() if p.endswith("pd.c"))
    res = CliRunner().invoke(
        cli,
        [
            "deploy",
            str(corpus_path(PD)),
            "--format",
            "cmake",
            "--runtime",
            "tflm",
            "-o",
            str(tmp_path / "c"),
            "--max-ram",
            "18444",
        ],
    )
    assert res.exit_code == 2 and "Error: --max-ram applies to the compiled runtime only" in res.output
