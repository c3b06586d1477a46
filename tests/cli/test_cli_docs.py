"""docs/cli.md's verb table is the CLI's own command tree (tinyflow/cli/_docs.py): it cannot go stale."""

from __future__ import annotations

import click

from tinyflow.cli import _docs
from tinyflow.cli.main import VERBS, cli


def test_docs_table_matches_the_cli():
    text = _docs.DOC.read_text()
    assert _docs.with_table(text) == text, "docs/cli.md is stale: run python -m tinyflow.cli._docs"


def test_table_has_every_verb_subcommand_and_visible_option():
    table = _docs.table()
    for verb in VERBS:
        assert f"| `tinyflow {verb}` |" in table
    assert "| `tinyflow boards list` |" in table and "| `tinyflow cache clean` |" in table
    eval_row = next(line for line in table.splitlines() if line.startswith("| `tinyflow eval` |"))
    for param in cli.get_command(click.Context(cli), "eval").params:
        if isinstance(param, click.Option) and not param.hidden:
            assert max(param.opts, key=len) in eval_row


def test_a_new_option_makes_the_docs_stale(monkeypatch):
    command = cli.get_command(click.Context(cli), "inspect")
    extra = click.Option(["--brand-new-option"], is_flag=True, help="x")
    monkeypatch.setattr(command, "params", [*command.params, extra])
    assert "`--brand-new-option`" in _docs.table()
    assert _docs.main(["--check"]) == 1


def test_hidden_aliases_stay_out_of_the_table(monkeypatch):
    command = cli.get_command(click.Context(cli), "inspect")
    alias = click.Option(["--old-spelling"], is_flag=True, hidden=True)
    monkeypatch.setattr(command, "params", [*command.params, alias])
    assert "--old-spelling" not in _docs.table()


def test_shell_completion_documented_works():
    from click.testing import CliRunner

    r = CliRunner().invoke(cli, [], prog_name="tinyflow", env={"_TINYFLOW_COMPLETE": "bash_source"})
    assert r.exit_code == 0 and "_TINYFLOW_COMPLETE=bash_complete" in r.output
    assert "_TINYFLOW_COMPLETE=bash_source tinyflow" in _docs.DOC.read_text()
