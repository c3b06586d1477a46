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
    cmd = ["cc", "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", *map(str, out.glob("*.c")),
           *map(str, (out / "kernels").glob("*.c")), f"-I{out / 'include'}", "-o", str(exe), "-lm"]
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
