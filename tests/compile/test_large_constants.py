"""Large constants (weights) are emitted as one C string literal: byte-exact in C and C++, and
cheap for the compiler (a brace list costs GCC a tree node per value: a 25 MB model took minutes
and gigabytes); small tables keep the readable 24-a-line brace list."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from compiled_helpers import compare_with_tflm

from conftest import require_tool
from tinyflow.compile.cemit import render_values
from tinyflow.compile.context import STRING_MIN_ELEMENTS, LowerContext
from tinyflow.tflite.writer import ModelBuilder

PRINT_C = """#include <stdint.h>
#include <stdio.h>
{decls}
int main(void) {{
  unsigned long k;
  for (k = 0; k < {n}u; ++k) printf("%d\\n", (int){sym}[k]);
  return 0;
}}
"""


def test_small_tables_keep_the_brace_list():
    ctx = LowerContext(model=None, values={})
    ctx.const_array("int8_t", [-128, 0, 127], "lut")
    assert ctx.decls == ["static const int8_t lut0_1[3] = {\n  -128, 0, 127\n};"]
    assert render_values("int32_t", [-(2**31), 5]) == "{\n  INT32_MIN, 5\n}"


@pytest.mark.firmware
@pytest.mark.parametrize("ctype", ["int8_t", "uint8_t"])
@pytest.mark.parametrize("cxx", [False, True])
def test_large_byte_arrays_are_one_string_literal_and_exact(ctype, cxx, tmp_path):
    rng = np.random.default_rng(7)
    info = np.iinfo(np.int8 if ctype == "int8_t" else np.uint8)
    values = rng.integers(info.min, info.max, STRING_MIN_ELEMENTS + 77, endpoint=True)
    values[:8] = [0, 63, 63, 47, 92, 34, 48, 49]  # NUL, '?', '?', '/', '\', '"', '0', '1': escapes and trigraphs
    ctx = LowerContext(model=None, values={})
    sym = ctx.const_array(ctype, values, "w")
    assert "{" not in ctx.decls[0] and f"[{values.size + 1}]" in ctx.decls[0]  # + the literal's NUL
    assert ctx.const_bytes == values.size + 1
    src = tmp_path / ("t.cc" if cxx else "t.c")
    src.write_text(PRINT_C.format(decls="\n".join(ctx.decls), n=values.size, sym=sym))
    compiler = require_tool("c++" if cxx else "cc")
    std = "-std=c++11" if cxx else "-std=c99"
    proc = subprocess.run(
        [compiler, std, "-Wall", "-Wextra", "-Werror", "-Wtrigraphs", str(src), "-o", str(tmp_path / "t")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = subprocess.run([str(tmp_path / "t")], capture_output=True, text=True, timeout=30, check=True).stdout
    assert [int(v) for v in out.split()] == values.tolist()


@pytest.mark.firmware
def test_a_model_with_large_weights_matches_tflm():
    rng = np.random.default_rng(3)
    rows, cols = 96, 200  # 19,200 weights: the string-literal path
    mb = ModelBuilder()
    x = mb.tensor([1, cols], "int8", scale=0.02, zero_point=-1)
    w = mb.tensor(
        [rows, cols],
        "int8",
        scale=list(rng.uniform(0.001, 0.01, rows)),
        zero_point=[0] * rows,
        data=rng.integers(-127, 128, (rows, cols), dtype=np.int8),
    )
    b = mb.tensor(
        [rows],
        "int32",
        scale=list(rng.uniform(2e-5, 2e-4, rows)),
        zero_point=[0] * rows,
        data=rng.integers(-1000, 1000, rows, dtype=np.int32),
    )
    y = mb.tensor([1, rows], "int8", scale=0.5, zero_point=3)
    mb.op("FULLY_CONNECTED", [x, w, b], [y])
    compare_with_tflm(mb.build(inputs=[x], outputs=[y]), samples=5, name="large_fc")
