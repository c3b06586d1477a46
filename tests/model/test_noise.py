"""TensorFlow's native lines stay off the terminal (tinyflow/model/noise.py) unless --verbose."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tinyflow.model import noise

# Lines TensorFlow and its converter write to fd 2 (issue 15 quotes each of them).
NOISE = ("absl::InitializeLog", "port.cc", "oneDNN", "fully_quantize", "cpu_feature_guard")


def test_silenced_drops_native_output_on_success(capfd, monkeypatch):
    monkeypatch.delenv(noise.VERBOSE_ENV, raising=False)
    with noise.silenced():
        os.write(2, b"I0000 port.cc:153] oneDNN custom operations are on\n")
    assert capfd.readouterr().err == ""


def test_silenced_replays_native_output_on_failure(capfd, monkeypatch):
    monkeypatch.delenv(noise.VERBOSE_ENV, raising=False)
    with pytest.raises(RuntimeError), noise.silenced():
        os.write(2, b"converter: op FOO is not supported\n")
        raise RuntimeError("conversion failed")
    assert "op FOO is not supported" in capfd.readouterr().err


def test_silenced_passes_everything_through_when_verbose(capfd, monkeypatch):
    monkeypatch.setenv(noise.VERBOSE_ENV, "1")
    with noise.silenced():
        os.write(2, b"fully_quantize: 0, inference_type: 6\n")
    assert "fully_quantize" in capfd.readouterr().err


def test_silenced_restores_fd_2(capfd, monkeypatch):
    monkeypatch.delenv(noise.VERBOSE_ENV, raising=False)
    with noise.silenced():
        pass
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"


def _tinyflow(*args, cwd):
    # A fresh process: TensorFlow's start-up lines are printed once per process, at its import.
    return subprocess.run(
        [sys.executable, "-m", "tinyflow.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", noise.VERBOSE_ENV)},
    )


@pytest.mark.tf
@pytest.mark.slow
def test_train_and_quantize_print_no_tensorflow_lines_unless_verbose(tmp_path):
    train = _tinyflow("train", "-d", "digits", "-m", "mlp", "--epochs", "1", "-o", "m.keras", cwd=tmp_path)
    assert train.returncode == 0, train.stderr
    quant = _tinyflow("quantize", "m.keras", "-d", "digits", "-o", "m.tflite", cwd=tmp_path)
    assert quant.returncode == 0, quant.stderr
    for run in (train, quant):
        assert not [line for line in run.stderr.splitlines() if any(n in line for n in NOISE)], run.stderr
    verbose = _tinyflow("--verbose", "quantize", "m.keras", "-d", "digits", "-o", "v.tflite", cwd=tmp_path)
    assert verbose.returncode == 0, verbose.stderr
    assert "fully_quantize" in verbose.stderr and "oneDNN" in verbose.stderr
