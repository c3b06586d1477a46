"""The front end C twins and their generated plans cross-compile for Cortex-M4F, warning-free."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import require_tool
from tinyflow.build.arm import CPU_FLAGS
from tinyflow.export.frontend_tables import render_imu, render_mfcc, render_micro_speech
from tinyflow.frontends import ImuConfig, MfccConfig, MicroSpeechConfig

pytestmark = pytest.mark.arm
ROOT = Path(__file__).resolve().parents[2]


def test_twins_and_plans_build_for_cortex_m4_with_warnings_as_errors(tmp_path):
    gcc = require_tool("arm-none-eabi-gcc")
    plans = {
        "ms_plan.c": render_micro_speech(MicroSpeechConfig()),
        "mfcc_plan.c": render_mfcc(MfccConfig()),
        "imu_plan.c": render_imu(ImuConfig()),
    }
    for name, text in plans.items():
        (tmp_path / name).write_text(text)
    sources = sorted((ROOT / "firmware" / "frontends").glob("*.c")) + [tmp_path / n for n in plans]
    assert {s.name for s in sources} >= {"fixed.c", "fft_q15.c", "micro_speech.c", "mfcc.c", "imu.c"}
    for src in sources:
        obj = tmp_path / (src.stem + ".o")
        cmd = [gcc, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", *CPU_FLAGS]
        cmd += [f"-I{ROOT / 'firmware' / 'include'}", "-c", str(src), "-o", str(obj)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        symbols = subprocess.run(["arm-none-eabi-nm", "-u", str(obj)], capture_output=True, text=True).stdout
        assert "malloc" not in symbols and "free" not in symbols, symbols  # static state only
