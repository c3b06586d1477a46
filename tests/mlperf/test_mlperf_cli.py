"""`tinyflow mlperf run|serve|dataset`: exit codes and the lines that matter."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from click.testing import CliRunner
from mlperf_helpers import MODELS

from conftest import corpus_path, require_tool
from tinyflow.cli.main import cli


def test_run_on_the_reference_kernels_scores_a_made_dataset(tmp_path):
    model = corpus_path(MODELS["ad01"])
    out = tmp_path / "results.json"
    res = CliRunner().invoke(
        cli, ["mlperf", "run", str(model), "--benchmark", "ad01", "--target", "sim://tflm", "--results", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "ulp-mlperf: Top 1% = 100.0" in res.output and "ulp-mlperf: AUC = 1.000" in res.output
    records = json.loads(out.read_text())
    assert {"file", "classes", "class", "bytes_to_send", "stride", "total_length", "infer", "mode"} <= set(records[0])
    assert set(records[0]["infer"]) >= {"results", "start_time", "end_time", "elapsed_time", "iterations", "warmups"}


def test_dataset_then_run_on_the_host_firmware_reads_the_runner_format(tmp_path):
    require_tool("cc")
    model = str(corpus_path(MODELS["ad01"]))
    runner = CliRunner()
    res = runner.invoke(cli, ["mlperf", "dataset", model, "--benchmark", "ad01", "--out", str(tmp_path / "ad01")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "ad01" / "y_labels.csv").read_text().splitlines()[0] == "normal_0.bin,2,0,2560,2560"
    for target in ("sim://tflm", "sim://host"):
        res = runner.invoke(
            cli,
            ["mlperf", "run", model, "--benchmark", "ad01", "--target", target, "--dataset", str(tmp_path / "ad01")],
        )
        assert res.exit_code == 0, res.output
        assert "Top 1% = 100.0" in res.output


@pytest.mark.parametrize(
    "args,line",
    [
        (["--target", "sim://tflm", "--mode", "performance"], "Error: sim://tflm runs the reference kernels"),
        (["--target", "sim://host?benchmark=kws01"], "Error: sim://host?benchmark=kws01 sets the protocol"),
        (["--target", "sim://qemu-m4?protocol=tinyflow"], "Error: sim://qemu-m4?protocol=tinyflow sets the protocol"),
        (["--target", "sim://host?bogus=1"], "Error: sim://host does not take the option 'bogus'"),
    ],
)
def test_usage_errors_are_one_line(args, line):
    model = corpus_path(MODELS["ad01"])
    res = CliRunner().invoke(cli, ["mlperf", "run", str(model), "--benchmark", "ad01", *args])
    assert res.exit_code == 2, res.output
    assert res.output.strip().splitlines()[-1].startswith(line)


def test_benchmark_without_the_eembc_protocol_is_refused():
    from tinyflow.errors import UsageError
    from tinyflow.workflows.device import open_device

    with pytest.raises(UsageError, match=r"applies to the MLPerf Tiny protocol only"):
        open_device("sim://host?benchmark=kws01", model=corpus_path(MODELS["kws01"]).read_bytes())


@pytest.mark.firmware
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_the_device_path_first_and_serves_until_interrupted(stop):
    from eembc_client import RunnerLikeClient

    require_tool("cc")
    model = str(corpus_path(MODELS["kws01"]))
    cmd = [sys.executable, "-m", "tinyflow.cli.main", "mlperf", "serve", model, "--benchmark", "kws01"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        path = proc.stdout.readline().strip()
        assert path.startswith("/dev/pts/"), path + proc.stderr.read()
        with RunnerLikeClient(path) as dut:
            assert dut.get_profile()["model"] == "kws01"
    finally:
        os.killpg(proc.pid, stop)
        proc.wait(20)
    assert proc.returncode == 0


def test_a_model_that_does_not_fit_the_benchmark_is_one_error_line(tmp_path):
    res = CliRunner().invoke(
        cli,
        [
            "mlperf",
            "dataset",
            str(corpus_path("tflm/hello_world_int8.tflite")),
            "--benchmark",
            "ic01",
            "--out",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 1
    assert res.output.strip().splitlines()[-1].startswith("Error: Cannot make ic01 data for this model")


def test_a_dataset_row_outside_its_folder_is_refused(tmp_path):
    (tmp_path / "y_labels.csv").write_text("../outside.bin,2,0,4,4\n")
    (tmp_path.parent / "outside.bin").write_bytes(bytes(4))
    model = str(corpus_path(MODELS["ad01"]))
    res = CliRunner().invoke(
        cli, ["mlperf", "run", model, "--benchmark", "ad01", "--target", "sim://tflm", "--dataset", str(tmp_path)]
    )
    assert res.exit_code == 1
    assert "outside" in res.output.strip().splitlines()[-1] and res.output.startswith("Error: ")
