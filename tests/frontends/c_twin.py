"""Build the front end C twins on the host with a generated plan, and run them on one signal."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np

from conftest import require_tool  # noqa: F401 (re-exported for the tests)
from tinyflow.build.cc import CBuild, build_executable, stage_sources

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
SOURCES = {
    "micro_speech": ["fixed.c", "fft_q15.c", "micro_speech.c"],
    "imu": ["fixed.c", "fft_q15.c", "imu.c"],
    "mfcc": ["fixed.c", "fft_q15.c", "mfcc.c"],
}


def build_twin(mode: str, plan_c: str, sanitize: bool = True) -> Path:
    """The driver linked with one front end and its generated plan (cached by content)."""
    require_tool("cc")
    plan = stage_sources({f"{mode}_plan.c": plan_c}, "frontends")
    build = CBuild(
        sources=[
            ROOT / "tests" / "frontends" / "driver.c",
            *(FIRMWARE / "frontends" / f for f in SOURCES[mode]),
            *plan,
        ],
        include_dirs=[FIRMWARE / "include"],
        defines={f"WITH_{mode.upper()}": None},
        sanitize=sanitize,
    )
    return build_executable(build, f"frontend-{mode}")


def run_twin(exe: Path, mode: str, signal: np.ndarray) -> tuple[int, bytes]:
    """(frames, output bytes after the frame count) of the C twin on int16 `signal`."""
    data = np.ascontiguousarray(signal, dtype="<i2")
    proc = subprocess.run([exe], input=struct.pack("<I", data.size) + data.tobytes(), capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    (frames,) = struct.unpack_from("<I", proc.stdout)
    return frames, proc.stdout[4:]
