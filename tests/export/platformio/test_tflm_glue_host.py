"""The fixed TFLM glue (firmware/tflm/*.cpp) compiled and run on the host against a fake TFLM
(tests/export/platformio/fake_tflm: TFLM's type codes, failing allocation, duplicate registration), and
debug_log.cpp compiled against both DebugLog declarations TFLM has had."""

import subprocess
from pathlib import Path

import pytest

from conftest import corpus_path, require_tool
from tinyflow.export.platformio import tflm_glue
from tinyflow.resources import firmware_dir
from tinyflow.tflite import read_model
from tinyflow.tflite.writer import ModelBuilder

pytestmark = pytest.mark.firmware

FAKE = Path(__file__).parent / "fake_tflm"
K_TFLITE = {"float32": 1, "int8": 9}  # TfLiteType values (TFLM's c/common.h)

MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#include "tinyflow/model.h"
#include "tensorflow/lite/c/common.h"
extern "C" uint32_t tinyflow_hal_ticks(void) { return 0; }
int fake_tflm_allocate_failures = 0;
static uint8_t in_buf[256], out_buf[256];
TfLiteTensor fake_tflm_input = {(TfLiteType)IN_TYPE, {in_buf}, IN_BYTES};
TfLiteTensor fake_tflm_output = {(TfLiteType)OUT_TYPE, {out_buf}, OUT_BYTES};
int main(int argc, char **argv) {
  fake_tflm_allocate_failures = argc > 1 ? atoi(argv[1]) : 0;
  int first = tinyflow_model_init();
  int second = tinyflow_model_init();
  printf("%d %d\n", first, second);
  return 0;
}
"""


def _compile(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]


def _float_model() -> bytes:
    mb = ModelBuilder()
    x, y = mb.tensor([1, 4], "float32"), mb.tensor([1, 4], "float32")
    mb.op("RELU", [x], [y])
    return mb.build(inputs=[x], outputs=[y])


def _run_glue(tmp_path, model, dtype, allocate_failures=0):
    cxx = require_tool("g++")
    m = read_model(model)
    (tmp_path / "tinyflow_tflm_model.h").write_text(tflm_glue.model_header(m, "m", 4096, "m.tflite", "0"))
    files = tflm_glue.model_data_files(m, "m.tflite")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "main.cpp").write_text(MAIN)
    t_in, t_out = m.tensors[m.inputs[0]], m.tensors[m.outputs[0]]
    fw = firmware_dir()
    exe = tmp_path / "glue"
    cmd = [
        cxx,
        "-std=c++17",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-fno-exceptions",
        f"-I{FAKE}",
        f"-I{fw / 'include'}",
        f"-I{tmp_path}",
        f"-DIN_TYPE={K_TFLITE[dtype]}",
        f"-DOUT_TYPE={K_TFLITE[dtype]}",
        f"-DIN_BYTES={t_in.nbytes}",
        f"-DOUT_BYTES={t_out.nbytes}",
        str(fw / "tflm" / "model_tflm.cpp"),
        str(fw / "tflm" / "debug_log.cpp"),
        str(tmp_path / "tinyflow_model_data.cc"),
        str(tmp_path / "main.cpp"),
        "-o",
        str(exe),
    ]
    _compile(cmd)
    out = subprocess.run([str(exe), str(allocate_failures)], check=True, capture_output=True, text=True, timeout=30)
    return [int(v) for v in out.stdout.split()]


def test_float32_inputs_and_outputs_match_tflms_type_codes(tmp_path):
    # .tflite says FLOAT32 = 0, TFLM's TfLiteType says kTfLiteFloat32 = 1: the glue must map, not compare.
    assert _run_glue(tmp_path, _float_model(), "float32") == [0, 0]


def test_int8_model_starts(tmp_path):
    assert _run_glue(tmp_path, corpus_path("tflm/hello_world_int8.tflite"), "int8") == [0, 0]


def test_init_after_a_failed_init_reports_the_same_failure(tmp_path):
    # arena too small twice: -4 both times (the ops are registered once, not again on the retry)
    assert _run_glue(tmp_path, corpus_path("tflm/hello_world_int8.tflite"), "int8", allocate_failures=2) == [-4, -4]
    # and a retry that allocates succeeds
    assert _run_glue(tmp_path, corpus_path("tflm/hello_world_int8.tflite"), "int8", allocate_failures=1) == [-4, 0]


DEBUG_LOG_2023 = """/* TFLM's declaration since 2023-07 (#2073) and 2023-12 (#2343), e.g. esp-tflite-micro 1.4.0 */
#include <cstdarg>
#include <cstddef>
extern "C" {
void DebugLog(const char* format, va_list args);
int DebugVsnprintf(char* buffer, size_t buf_size, const char* format, va_list vlist);
}
"""

LOG_MAIN = r"""
#include <stdarg.h>
#include <string.h>
#include "tensorflow/lite/micro/debug_log.h"
static int log(const char *format, ...) {
  va_list args;
  va_start(args, format);
  DebugLog(format, args);
  va_end(args);
  char buf[16];
  va_start(args, format);
  int n = DebugVsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  return n == 2 && strcmp(buf, "42") == 0 ? 0 : 1;
}
int main(void) { return log("%d", 42); }
"""


def test_debug_log_builds_against_the_post_2023_declaration(tmp_path):
    cxx = require_tool("g++")
    inc = tmp_path / "tensorflow" / "lite" / "micro"
    inc.mkdir(parents=True)
    (inc / "debug_log.h").write_text(DEBUG_LOG_2023)  # and no micro_string.h, removed by the same change
    (tmp_path / "main.cpp").write_text(LOG_MAIN)
    exe = tmp_path / "log"
    _compile(
        [
            cxx,
            "-std=c++17",
            "-Wall",
            "-Wextra",
            "-Werror",
            f"-I{tmp_path}",
            str(firmware_dir() / "tflm" / "debug_log.cpp"),
            str(tmp_path / "main.cpp"),
            "-o",
            str(exe),
        ]
    )
    assert subprocess.run([str(exe)], timeout=30).returncode == 0
