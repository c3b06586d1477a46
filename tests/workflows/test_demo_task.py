"""`tinyflow demo --task kws|har`: raw recordings -> a front end -> a model -> on-device accuracy.

The two end-to-end tests are issue 13's done-when: kws >= 0.90 on held-out voices on
sim://qemu-m4, har >= 0.90 on basic-motions' published test split on a device (sim://host). The
device computes the features from the raw test signals (the model's sidecar), and its features
must equal the host's.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import require_tool
from tinyflow.errors import UsageError
from tinyflow.workflows.config import DemoConfig


def test_task_defaults_and_refusals():
    kws = DemoConfig(task="kws")
    assert (kws.frontend, kws.name, kws.epochs, kws.finetune_epochs) == ("micro_speech", "kws_cnn", 60, 24)
    assert DemoConfig(task="kws", frontend="mfcc").frontend == "mfcc"
    digits = DemoConfig()
    assert (digits.task, digits.frontend, digits.epochs, digits.finetune_epochs, digits.name) == (
        "digits",
        None,
        40,
        12,
        "digits_cnn",
    )
    with pytest.raises(UsageError, match="--task must be one of"):
        DemoConfig(task="vww")
    with pytest.raises(UsageError, match="takes --frontend imu"):
        DemoConfig(task="har", frontend="mfcc")
    with pytest.raises(UsageError, match="takes no --frontend"):
        DemoConfig(frontend="imu")


def test_cli_refuses_a_front_end_the_task_does_not_take(tmp_path):
    from tinyflow.cli.main import cli

    result = CliRunner().invoke(cli, ["demo", "--task", "har", "--frontend", "mfcc", "-o", str(tmp_path / "d")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith("Error: --task har takes --frontend imu")


def _run(task: str, target: str, out) -> dict:
    from tinyflow.cli.main import cli

    result = CliRunner().invoke(cli, ["demo", "--task", task, "--target", target, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads((out / "report.json").read_text())


def _check(report: dict, out, frontend: str) -> float:
    from tinyflow.frontends import read_sidecar

    e = report["evaluate"]
    acc = e["metrics"]["accuracy"]
    print(f"{report['config']['task']} on {e['target']}: accuracy {acc:.4f} over {e['samples']} test recordings")
    assert e["feature_agreement"]["exact_match_rate"] == 1.0  # the device computed the host's features
    assert e["agreement"]["exact_match_rate"] == 1.0 and e["link"]["lost"] == 0
    for name in ("model.keras", "pruned.keras", "model_int8_unpruned.tflite", "model_int8.tflite"):
        assert read_sidecar(out / name).name == frontend, name
    return acc


@pytest.mark.tf
@pytest.mark.firmware
@pytest.mark.slow
def test_demo_har_on_the_host_firmware(tf, tmp_path):
    require_tool("cc")
    out = tmp_path / "har"
    report = _run("har", "sim://host", out)
    assert report["data"]["test"] == 40  # basic-motions' published test split
    assert _check(report, out, "imu") >= 0.90


@pytest.mark.tf
@pytest.mark.qemu
@pytest.mark.slow
def test_demo_kws_on_qemu_m4_held_out_voices(tf, tmp_path):
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    require_tool("espeak-ng")
    require_tool("sox")
    out = tmp_path / "kws"
    report = _run("kws", "sim://qemu-m4", out)
    assert report["data"]["test"] > 0 and report["data"]["classes"] == ["down", "no", "up", "yes"]
    assert _check(report, out, report["config"]["frontend"]) >= 0.90
