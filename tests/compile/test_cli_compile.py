"""`tinyflow compile` writes a self-contained C folder that builds, and reports memory."""

from __future__ import annotations

import json
import subprocess

import pytest
from click.testing import CliRunner
from compiled_helpers import require_cc

from conftest import corpus_path
from tinyflow.cli.main import cli

MAIN = """#include <stdint.h>
#include "tinyflow/model.h"
uint32_t tinyflow_hal_ticks(void) { return 0; }
int main(void) {
  const tinyflow_model_info_t *info = tinyflow_model_info();
  if (tinyflow_model_init() != 0 || info->num_ops < 1) return 2;
  return tinyflow_model_invoke(0) == 0 ? 0 : 3;
}
"""


@pytest.mark.firmware
def test_compile_writes_a_folder_that_builds_and_runs(tmp_path):
    require_cc()
    model = corpus_path("tflm/micro_speech_quantized.tflite")
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["compile", str(model), "-o", str(out), "--no-tflm-arena", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["memory"]["activation_bytes"] > 0 and report["memory"]["tflm_arena_bytes"] is None
    assert (out / "micro_speech_quantized.c").exists()
    (out / "main.c").write_text(MAIN)
    exe = tmp_path / "m"
    cmd = [
        "cc",
        "-std=c99",
        "-O1",
        "-Wall",
        "-Wextra",
        "-Werror",
        *map(str, out.glob("*.c")),
        *map(str, (out / "kernels").glob("*.c")),
        f"-I{out / 'include'}",
        "-o",
        str(exe),
        "-lm",
    ]
    subprocess.run(cmd, check=True, timeout=120)
    assert subprocess.run([str(exe)], timeout=30).returncode == 0


def test_compile_unsupported_op_exits_1_with_the_hint(tmp_path):
    from tinyflow.tflite.writer import ModelBuilder

    mb = ModelBuilder()
    x, y = mb.tensor([4], "float32"), mb.tensor([4], "float32")
    mb.op("FLOOR", [x], [y])
    path = tmp_path / "floor.tflite"
    path.write_bytes(mb.build([x], [y]))
    res = CliRunner().invoke(cli, ["compile", str(path), "-o", str(tmp_path / "o"), "--no-tflm-arena"])
    assert res.exit_code == 1
    assert "Op FLOOR is not supported by the compiled runtime" in res.output
    assert "--runtime tflm" in res.output


# -- compile -o: a folder with the user's own files is refused; --force overrides -------------------


def _snapshot(folder):
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def _compile(*args):
    model = corpus_path("tflm/hello_world_int8.tflite")
    return CliRunner().invoke(cli, ["compile", str(model), "--no-tflm-arena", *map(str, args)])


def test_compile_refuses_a_folder_with_the_users_files(tmp_path):
    out = tmp_path / "out"
    (out / "include" / "tinyflow").mkdir(parents=True)
    (out / "hello_world_int8.c").write_text("/* my own model.c */")
    (out / "include" / "tinyflow" / "model.h").write_text("/* my header */")
    before = _snapshot(tmp_path)
    res = _compile("-o", out)
    assert res.exit_code == 2
    assert f"Error: {out} is not empty and was not written by tinyflow" in res.output and "--force" in res.output
    assert _snapshot(tmp_path) == before


def test_compile_reruns_into_its_own_folder_but_refuses_edited_files(tmp_path):
    out = tmp_path / "out"
    assert _compile("-o", out).exit_code == 0
    res = _compile("-o", out)
    assert res.exit_code == 0, res.output
    (out / "hello_world_int8.c").write_text("/* edited */")
    before = _snapshot(tmp_path)
    res = _compile("-o", out)
    assert res.exit_code == 2
    assert "edited since: hello_world_int8.c" in res.output
    assert _snapshot(tmp_path) == before


def test_compile_force_overwrites_and_keeps_other_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "hello_world_int8.c").write_text("/* my own */")
    (out / "notes.txt").write_text("mine")
    res = _compile("-o", out, "--force")
    assert res.exit_code == 0, res.output
    assert "tinyflow_model_invoke" in (out / "hello_world_int8.c").read_text()
    assert (out / "notes.txt").read_text() == "mine"
    assert _compile("-o", out).exit_code == 0  # now a tinyflow folder: reruns without --force


def test_compile_does_not_write_through_a_symlink_even_with_force(tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "kernels").symlink_to(elsewhere, target_is_directory=True)
    for extra in ([], ["--force"]):
        res = _compile("-o", out, *extra)
        assert res.exit_code == 2 and "symbolic link" in res.output
        assert list(elsewhere.iterdir()) == []


def test_compile_names_from_the_model_cannot_leave_the_folder(tmp_path):
    out = tmp_path / "deep" / "out"
    res = _compile("-o", out, "--name", "../../escaped")
    assert res.exit_code == 0, res.output
    written = [p for p in tmp_path.rglob("*.c") if p.parent == out]
    assert len(written) == 1 and written[0].name.startswith("escaped_")
    assert not list(tmp_path.glob("*.c")) and not (tmp_path / "escaped.c").exists()
