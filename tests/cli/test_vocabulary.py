"""One CLI vocabulary (issue 15): --output/-o, --dataset/-d, --board/-b, help on every option."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from conftest import corpus_path
from tinyflow.cli._docs import walk
from tinyflow.cli.main import cli

HELLO = "tflm/hello_world_int8.tflite"
# Spellings replaced by --output and --dataset: still parsed, never shown.
OLD = {"--out", "--data"}


def _commands():
    return [(path, cmd) for path, cmd in walk(cli, "tinyflow") if not isinstance(cmd, click.Group)]


def _visible(cmd):
    """Every option name a user sees in the command's --help."""
    names = []
    for p in cmd.params:
        if isinstance(p, click.Option) and not p.hidden:
            hidden = getattr(p, "hidden_aliases", ())
            names += [n for n in [*p.opts, *p.secondary_opts] if n not in hidden]
    return names


def test_every_option_of_every_verb_has_help_text():
    bare = [
        f"{path} {'/'.join(p.opts)}"
        for path, cmd in walk(cli, "tinyflow")
        for p in cmd.params
        if isinstance(p, click.Option) and not p.hidden and not (p.help or "").strip()
    ]
    assert bare == []


def test_one_spelling_for_output_and_dataset_in_every_verb():
    for path, cmd in _commands():
        names = _visible(cmd)
        assert not OLD & set(names), (path, names)
        for p in cmd.params:
            if isinstance(p, click.Option) and "--output" in p.opts:
                assert "-o" in p.opts, path
            if isinstance(p, click.Option) and "--dataset" in p.opts:
                assert "-d" in p.opts, path
    # each writing verb spells it --output, each reading verb --dataset
    verbs = {path: _visible(cmd) for path, cmd in _commands()}
    for path in ("tinyflow train", "tinyflow prune", "tinyflow quantize", "tinyflow demo", "tinyflow compile"):
        assert "--output" in verbs[path], path
    for path in ("tinyflow train", "tinyflow prune", "tinyflow quantize", "tinyflow eval", "tinyflow mlperf run"):
        assert "--dataset" in verbs[path], path
    for path in ("tinyflow eval", "tinyflow profile", "tinyflow demo", "tinyflow mlperf run", "tinyflow mlperf serve"):
        assert "--board" in verbs[path] and "-b" in verbs[path], path


@pytest.mark.parametrize(
    "verb, old, dest",
    [
        (["train"], ["--data", "digits", "--out", "a.keras"], {"data": "digits", "out": "a.keras"}),
        (["quantize"], ["M", "--data", "sine", "--out", "m.tflite"], {"data": "sine", "out": "m.tflite"}),
        (["demo"], ["--out", "folder"], {"out": "folder"}),
        (["compile"], ["M", "--out", "c"], {"out_dir": "c"}),
        (["data", "synth-kws"], ["--words", "yes", "--out", "s"], {"out": "s"}),
    ],
)
def test_old_spellings_still_parse_but_are_not_in_help(verb, old, dest, tmp_path):
    model = tmp_path / "M"
    model.write_bytes(b"x")
    group = cli
    ctx = click.Context(cli)
    for name in verb[:-1]:
        group = group.get_command(ctx, name)
    cmd = group.get_command(ctx, verb[-1])
    args = [str(model) if a == "M" else a for a in old]
    parsed = cmd.make_context(verb[-1], args).params
    assert {k: str(parsed[k]) for k in dest} == dest
    shown = CliRunner().invoke(cli, [*verb, "--help"]).output
    assert "--output" in shown and "--out " not in shown and "--out," not in shown and "--data " not in shown


def _eval(*args):
    return CliRunner().invoke(
        cli, ["eval", str(corpus_path(HELLO)), "-d", "random:2", "--no-progress", "--json", *args]
    )


def test_eval_takes_board_as_an_option_and_writes_it_into_the_sim_url():
    res = _eval("-b", "nano33ble")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["target"] == "sim://tflm?board=nano33ble"
    same = _eval("-t", "sim://tflm?board=nano33ble", "--board", "nano33ble")
    assert same.exit_code == 0, same.output
    assert json.loads(same.stdout)["target"] == "sim://tflm?board=nano33ble"


@pytest.mark.parametrize("verb", ["eval", "profile"])
def test_a_board_that_contradicts_the_url_is_a_one_line_usage_error(verb):
    args = [verb, str(corpus_path(HELLO)), "-t", "sim://tflm?board=nano33ble", "-b", "esp32s3"]
    res = CliRunner().invoke(cli, [*args, "-d", "random:2"] if verb == "eval" else args)
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines() == [
        "Error: --board esp32s3 contradicts ?board=nano33ble in --target sim://tflm?board=nano33ble. "
        "Give the board once, or the same board in both."
    ]


def test_eval_refuses_a_board_for_a_device_instead_of_ignoring_it():
    res = _eval("-t", "/dev/ttyACM9", "-b", "nano33ble")
    assert res.exit_code == 2
    assert res.stderr.strip().startswith("Error: --board applies to sim:// targets")


def test_mlperf_run_checks_the_board_against_the_url(tmp_path):
    args = ["mlperf", "run", str(corpus_path(HELLO)), "--benchmark", "ad01"]
    res = CliRunner().invoke(cli, [*args, "-t", "sim://host?board=nano33ble", "-b", "rpipico"])
    assert res.exit_code == 2 and "contradicts ?board=nano33ble" in res.stderr


def test_eval_and_demo_default_to_the_same_target():
    ctx = click.Context(cli)
    defaults = {name: cli.get_command(ctx, name) for name in ("eval", "demo", "profile")}
    targets = {n: next(p.default for p in c.params if p.name == "target") for n, c in defaults.items()}
    assert targets == {"eval": "sim://tflm", "demo": "sim://tflm", "profile": "sim://tflm"}
    from tinyflow.workflows.config import DemoConfig, EvalConfig

    assert DemoConfig().target == EvalConfig("m.tflite", dataset="digits").target == "sim://tflm"
