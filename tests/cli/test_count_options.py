"""One spelling for "how many": `--count/-n N` in every verb that processes, records or shows N items,
and `-n` means nothing else (issue 15). Old spellings stay as hidden aliases for a release."""

from __future__ import annotations

import click
from click.testing import CliRunner

from tinyflow.cli._docs import walk
from tinyflow.cli.main import cli

# Spellings of a count that a verb must not show: the concept is --count/-n.
OTHER_COUNT_SPELLINGS = {"--limit", "--samples", "--num", "--num-samples", "--number", "--max-count", "--n", "-c"}
# Verbs whose count option is --count/-n (a new count verb adds itself here and uses count_option).
COUNT_VERBS = {"tinyflow eval", "tinyflow runs list", "tinyflow capture", "tinyflow classify"}


def _visible(option: click.Option) -> set[str]:
    return set(option.opts + option.secondary_opts) - set(getattr(option, "hidden_aliases", ()))


def _options():
    for path, command in walk(cli, "tinyflow"):
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                yield path, param


def test_n_is_count_in_every_verb_and_nothing_else():
    for path, option in _options():
        if "-n" in _visible(option):
            assert "--count" in option.opts, f"{path}: -n is {option.opts}, not --count"
        if "--count" in option.opts:
            assert "-n" in _visible(option), f"{path}: --count without -n"


def test_no_verb_shows_another_spelling_of_a_count():
    shown = {(path, name) for path, option in _options() for name in _visible(option) & OTHER_COUNT_SPELLINGS}
    assert not shown, f"spell these --count/-n (old spellings as hidden aliases): {sorted(shown)}"


def test_the_verbs_with_a_count_have_it():
    present = {path for path, _ in walk(cli, "tinyflow")}
    have = {path for path, option in _options() if "--count" in option.opts}
    assert {"tinyflow eval", "tinyflow runs list"} <= present
    assert COUNT_VERBS & present <= have, f"missing --count: {(COUNT_VERBS & present) - have}"


def test_old_spellings_still_parse_and_are_not_shown(tmp_path):
    runner = CliRunner()
    for argv, key, value in (
        (["eval", "m.tflite", "-d", "digits", "--limit", "5"], "limit", 5),
        (["eval", "m.tflite", "-d", "digits", "-n", "7"], "limit", 7),
        (["runs", "list", "--limit", "3"], "limit", 3),
        (["deploy", "m.tflite", "-f", "cmake", "-n", "kws", "-o", "o"], "name", "kws"),
        (["compile", "m.tflite", "-n", "kws", "-o", "o"], "name", "kws"),
    ):
        model = tmp_path / "m.tflite"
        model.write_bytes(b"x")
        argv = [str(model) if a == "m.tflite" else a for a in argv]
        ctx = cli.make_context("tinyflow", list(argv))
        verb = cli.get_command(ctx, argv[0])
        rest = argv[1:]
        while isinstance(verb, click.Group):
            sub = verb.get_command(ctx, rest[0])
            verb, rest = sub, rest[1:]
        assert verb.make_context(argv[0], rest, parent=ctx).params[key] == value
    for argv, old in ((["eval", "--help"], "--limit"), (["deploy", "--help"], "-n,"), (["compile", "--help"], "-n,")):
        assert old not in runner.invoke(cli, argv).output


def test_the_resume_hint_uses_the_current_spelling():
    from tinyflow.cli.eval import _rebuild

    argv = _rebuild({"model": "m.tflite", "target": "sim://tflm", "dataset": "digits", "report_dir": "r", "limit": 9})
    assert argv[argv.index("--count") + 1] == "9" and "--limit" not in argv


def test_vocabulary_table_is_read_from_the_cli_and_shows_a_verb_that_spells_a_concept_differently(monkeypatch):
    from tinyflow.cli import _docs

    rows = {line.split(" | ")[0]: line for line in _docs.vocabulary().splitlines()}
    count = rows["| `--count` / `-n`"]
    assert "eval" in count and "runs list" in count and "(no" not in count
    assert "train" in rows["| `--report`"] and "quantize" in rows["| `--report`"]
    command = cli.get_command(click.Context(cli), "profile")
    board = next(p for p in command.params if "--board" in p.opts)
    monkeypatch.setattr(board, "opts", ["--board"])  # profile loses its -b
    assert "profile (no `-b`)" in _docs.vocabulary()
    text = _docs.DOC.read_text()
    assert _docs.VOCAB_BEGIN in text and _docs.with_table(text) != text  # docs/cli.md is now stale
