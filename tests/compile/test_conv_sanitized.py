"""CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and pooling kernels under ASan/UBSan on extreme
parameters and inputs (exactly sized heap buffers, every multiplier/shift extreme)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import require_tool
from tinyflow.build.cc import CBuild, build_executable

pytestmark = pytest.mark.firmware
ROOT = Path(__file__).resolve().parents[2]
KERNELS = ["conv_2d", "depthwise_conv_2d", "fully_connected", "pooling"]


def test_conv_kernels_have_no_undefined_behaviour_on_extremes():
    require_tool("clang")
    build = CBuild(
        sources=[ROOT / "firmware" / "kernels" / f"{k}.c" for k in KERNELS]
        + [Path(__file__).with_name("conv_extremes.c")],
        include_dirs=[ROOT / "firmware" / "include"],
        compiler="clang",
        sanitize=True,
    )
    exe = build_executable(build, "conv_extremes")
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "runtime error" not in proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1] == "OK" and [ln.split()[0] for ln in lines[:-1]] == [
        "conv",
        "depthwise",
        "fully_connected",
        "pooling",
    ]
