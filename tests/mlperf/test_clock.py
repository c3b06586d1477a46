"""The 64-bit clock's C arithmetic (firmware/include/tinyflow/clock.h) and the weak default
tinyflow_hal_ticks64() of hal_defaults.c, compiled and run on the host."""

from __future__ import annotations

import subprocess

import pytest

from conftest import require_tool
from tinyflow.build.cc import CBuild, build_executable
from tinyflow.resources import firmware_dir

pytestmark = pytest.mark.firmware


def test_the_extended_clock_counts_every_wrap_and_converts_without_overflow():
    require_tool("cc")
    fw = firmware_dir()
    build = CBuild(
        sources=[fw / "tests" / "test_clock.c", fw / "src" / "hal_defaults.c"],
        include_dirs=[fw / "include"],
        defines={},
        cflags=["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"],
        compiler="cc",
    )
    exe = build_executable(build, "test-clock")
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stdout
