"""`compile -o DIR` again with another model name: the previous name's files go, the user's stay."""

from __future__ import annotations

import json

from click.testing import CliRunner

from conftest import corpus_path
from tinyflow.cli.main import cli

MODEL = corpus_path("tflm/micro_speech_quantized.tflite")


def _compile(out, name: str) -> None:
    res = CliRunner().invoke(cli, ["compile", str(MODEL), "-o", str(out), "--name", name, "--no-tflm-arena", "--json"])
    assert res.exit_code == 0, res.output
    json.loads(res.output)


def _recorded(out) -> set[str]:
    return set(json.loads((out / ".tinyflow" / "manifest.json").read_text())["files"])


def test_a_previous_model_name_is_removed_and_the_users_files_are_not(tmp_path):
    out = tmp_path / "out"
    _compile(out, "first")
    assert (out / "first.c").exists()
    (out / "main.c").write_text("int main(void) { return 0; }\n")  # the user's own file
    (out / "notes").mkdir()
    (out / "notes" / "todo.txt").write_text("mine\n")
    _compile(out, "second")
    assert (out / "second.c").exists()
    assert not (out / "first.c").exists()  # it would be built with second.c (duplicate model symbols)
    assert (out / "main.c").read_text() == "int main(void) { return 0; }\n"
    assert (out / "notes" / "todo.txt").read_text() == "mine\n"
    assert "first.c" not in _recorded(out) and "second.c" in _recorded(out)


def test_a_stale_file_the_user_edited_is_kept(tmp_path):
    out = tmp_path / "out"
    _compile(out, "first")
    (out / "first.c").write_text("/* edited by hand */\n")
    _compile(out, "second")
    assert (out / "first.c").read_text() == "/* edited by hand */\n"
    assert (out / "second.c").exists()
    _compile(out, "third")  # still the user's on the next run, still kept
    assert (out / "first.c").read_text() == "/* edited by hand */\n" and not (out / "second.c").exists()
