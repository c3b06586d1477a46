"""On the emulated Cortex-M4F (its DSP and FPU code paths), the C twins give numpy's features."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import require_tool

pytestmark = [pytest.mark.qemu, pytest.mark.arm]
ROOT = Path(__file__).resolve().parents[2]


def test_device_features_hash_to_the_host_s():
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    sys.path.insert(0, str(ROOT / "bench"))
    import frontends as bench  # bench/frontends.py: builds bench_mps2.c, runs it once on QEMU

    results = bench.run()
    assert set(results) == {"micro_speech", "mfcc", "imu"}
    for name, r in results.items():
        assert r["status"] == 0 and r["frames"] > 0, (name, r)
        assert r["device_equals_host"], name
        assert r["instructions_per_frame"] > 1000, (name, r)  # ran, and was measured
