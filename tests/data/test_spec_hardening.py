"""A dataset spec that names an existing file or folder is that path, even when it starts with random:."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tinyflow.data import load_dataset, parse_spec
from tinyflow.errors import UsageError


def _write_csv(path) -> None:
    rows = [f"{i / 10:.1f},{i % 2}" for i in range(6)]
    path.write_text("x,label\n" + "\n".join(rows) + "\n")


def test_an_existing_file_named_like_random_is_read_as_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write_csv(tmp_path / "random:5.csv")
    spec = parse_spec("random:5.csv", allow_random=False)
    assert (spec.kind, spec.name) == ("file", "random:5")
    ds = load_dataset("random:5.csv")
    assert ds.name == "random:5" and len(ds.x) == len(ds.y) == 6  # the six rows of the file


def test_an_existing_store_folder_named_random_n_is_the_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "random:5").mkdir()
    (tmp_path / "random:5" / "manifest.csv").write_text("path,label\n")
    assert parse_spec("random:5").kind == "store"


def test_random_n_without_such_a_path_stays_random(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = parse_spec("random:5")
    assert (spec.kind, spec.count) == ("random", 5)
    with pytest.raises(UsageError, match="random:N needs a positive sample count"):
        parse_spec("random:5.csv")  # no such file: a malformed random:N


def test_the_rule_is_in_the_help_of_eval():
    from tinyflow.cli.main import cli

    res = CliRunner().invoke(cli, ["eval", "--help"])
    assert res.exit_code == 0
    assert "existing file or folder" in " ".join(res.output.split())
