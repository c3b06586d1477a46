"""The workflow configs: every field checked once, at construction, with one clear UsageError line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tinyflow.errors import UsageError
from tinyflow.workflows.config import DemoConfig, EvalConfig, ProfileConfig


def test_defaults_match_the_cli_and_paths_are_normalised(tmp_path):
    c = EvalConfig("m.tflite", dataset=Path("d.npz"), report_dir=str(tmp_path))
    assert c.target == "sim://tflm" and c.window == 4 and c.timeout == 5.0 and c.seed == 0
    assert c.dataset == "d.npz" and c.report_dir == tmp_path
    assert DemoConfig(out="x").out == Path("x")
    assert ProfileConfig("m.tflite").runs == 1


def test_configs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        EvalConfig("m.tflite", dataset="random:1").seed = 3
    assert dataclasses.replace(DemoConfig(), seed=5).seed == 5


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(resume=True), "--resume needs --report DIR"),
        (dict(window=0), r"--window must be a whole number at least 1, got 0"),
        (dict(limit=0), "--limit must be"),
        (dict(timeout=float("nan")), "timeout must be a finite number of seconds above 0"),
        (dict(timeout=float("inf")), "timeout must be a finite number"),
        (dict(timeout=0), "timeout must be a finite number"),
        (dict(seed=-1), "--seed must be a whole number from 0 to 4294967295"),
        (dict(seed=2**32), "--seed must be"),
        (dict(split="holdout"), "--split must be one of test, val, train, all"),
        (dict(baud=10), "--baud must be"),
        (dict(target=""), "--target must be a non-empty string"),
        (dict(dataset=""), "--dataset must be a non-empty string"),
        (dict(window=True), "--window must be"),  # a bool is not a count
    ],
)
def test_eval_config_refuses(kwargs, message):
    base = dict(dataset="random:2")
    with pytest.raises(UsageError, match=message) as info:
        EvalConfig("m.tflite", **{**base, **kwargs})
    assert "\n" not in str(info.value.message) and info.value.hint


def test_eval_config_refuses_a_model_that_is_neither_path_nor_bytes():
    with pytest.raises(UsageError, match="path or its bytes"):
        EvalConfig(3, dataset="random:1")
    assert EvalConfig(b"TFL3", dataset="random:1").model == b"TFL3"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(runs=0), "--runs must be a whole number from 1 to 100"),
        (dict(runs=101), "--runs must be"),
        (dict(timeout=-1), "timeout must be a finite number"),
        (dict(board=""), "--board must be"),
    ],
)
def test_profile_config_refuses(kwargs, message):
    with pytest.raises(UsageError, match=message):
        ProfileConfig("m.tflite", **kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(epochs=0), "--epochs must be a whole number from 1 to 1000"),
        (dict(ratio=1.0), "ratio must be a fraction"),
        (dict(sparsity=float("nan")), "sparsity must be a fraction"),
        (dict(calibration=0), "calibration must be"),
        (dict(board=""), "--board must be"),
        (dict(seed=-3), "--seed must be"),
    ],
)
def test_demo_config_refuses(kwargs, message):
    with pytest.raises(UsageError, match=message):
        DemoConfig(**kwargs)


def test_the_cli_reports_a_config_error_as_one_line(tmp_path):
    """A value click lets through but the config refuses reaches the user as `Error: ...`, exit 2."""
    from click.testing import CliRunner

    from conftest import corpus_path
    from tinyflow.cli.main import cli

    model = str(corpus_path("tflm/hello_world_int8.tflite"))
    res = CliRunner().invoke(cli, ["eval", model, "-d", "random:2", "--resume", "--no-progress"])
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines() == [
        "Error: --resume needs --report DIR: the journal to resume lives there. "
        "Pass the same --report directory as the interrupted run."
    ]
