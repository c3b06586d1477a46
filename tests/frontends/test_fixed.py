"""The integer helpers: the rounded square root of TFLM, in numpy and in both C variants."""

from __future__ import annotations

import math
import subprocess

import numpy as np
import pytest

from tinyflow.frontends.fixed import isqrt_rounded, msb


def _values() -> np.ndarray:
    rng = np.random.default_rng(0)
    squares = [r * r + d for r in (1, 2, 255, 65535, 65536, 2**20 + 7, 2**31, 2**32 - 1) for d in (-1, 0, 1)]
    edges = [0, 1, 2, 3, 2**32 - 2, 2**32 - 1, 2**32, 2**32 + 1, 2**63, 2**64 - 2, 2**64 - 1]
    edges += [(r * r + r) + d for r in (65535, 2**31 + 5, 2**32 - 1) for d in (0, 1)]  # rounding boundary
    rand = list(rng.integers(0, 2**32, 3000, dtype=np.uint64)) + list(rng.integers(0, 2**63, 3000, dtype=np.uint64))
    values = [v for v in squares + edges if 0 <= v < 2**64] + [int(v) for v in rand]
    values += [int(v) << s for v in rng.integers(1, 2**16, 200) for s in range(0, 48, 5)]
    return np.array(values, dtype=np.uint64)


def _expected(values: np.ndarray) -> list[int]:
    """floor(sqrt), plus one when the rest exceeds it; the 32-bit path saturates at 0xFFFF."""
    out = []
    for v in values.tolist():
        r = math.isqrt(v)
        up = r + (v - r * r > r)
        out.append(min(up, 0xFFFF) if v < 2**32 and r == 0xFFFF else up if v < 2**32 else min(up, 2**32 - 1))
    return out


def test_numpy_square_root_is_tflm_s():
    values = _values()
    assert isqrt_rounded(values).tolist() == _expected(values)
    assert msb(np.array([0, 1, 2, 3, 2**40, 2**63], dtype=np.uint64)).tolist() == [0, 1, 2, 2, 41, 64]


@pytest.mark.firmware
@pytest.mark.parametrize("fpu_seeded", [False, True], ids=["bitwise", "fpu-seeded"])
def test_c_square_root_matches(fpu_seeded):
    """Both C variants: the portable bitwise one and the FPU-seeded one Cortex-M4F builds use."""
    from c_twin import FIRMWARE, ROOT, require_tool

    from tinyflow.build.cc import CBuild, build_executable

    require_tool("cc")
    build = CBuild(
        sources=[ROOT / "tests" / "frontends" / "sqrt_check.c", FIRMWARE / "frontends" / "fixed.c"],
        include_dirs=[FIRMWARE / "include"],
        defines={"TINYFLOW_FRONTEND_FPU_SQRT": None} if fpu_seeded else {},
        ldflags=["-lm"],
        sanitize=True,
    )
    exe = build_executable(build, "frontend-sqrt")
    values = _values()
    proc = subprocess.run([exe], input=values.astype("<u8").tobytes(), capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert np.frombuffer(proc.stdout, dtype="<u4").tolist() == _expected(values)
