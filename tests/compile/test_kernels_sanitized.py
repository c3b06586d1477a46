"""The element-wise/activation/shape kernels under ASan/UBSan on extreme parameters and inputs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from elementwise_kernels import KERNELS, ROOT

from conftest import require_tool
from tinyflow.build.cc import CBuild, build_executable

pytestmark = pytest.mark.firmware


def test_kernels_have_no_undefined_behaviour_on_extremes():
    compiler = "clang" if require_tool("clang") else "cc"
    build = CBuild(
        sources=[ROOT / "firmware" / "kernels" / f"{k}.c" for k in KERNELS]
        + [Path(__file__).with_name("kernels_extremes.c")],
        include_dirs=[ROOT / "firmware" / "include"],
        ldflags=["-lm"],
        compiler=compiler,
        sanitize=True,
    )
    exe = build_executable(build, "kernels_extremes")
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "runtime error" not in proc.stderr
    assert proc.stdout.splitlines()[-1] == "OK" and len(proc.stdout.splitlines()) == 4
