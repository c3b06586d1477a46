"""bench/patches.py: the RAM/instructions table says whether the input streams and shows static RAM."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

# bench/ is a top-level folder of the checkout, not part of the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
bench_patches = importlib.import_module("bench.patches")


def _row(budget, arena, ring, ram, instructions):
    base = {"instructions": 1_000_000, "ram_bytes": 40_000, "flash_bytes": 100_000}
    return {
        "budget": budget,
        "stages": [(0, 3, 1)],
        "arena_bytes": arena,
        "stream_ring": ring,
        "ram_bytes": ram,
        "instructions": instructions,
        "extra_calls": 10,
        "shifted_bytes": 100,
        "flash_bytes": 101_000,
        "identical": 1.0,
        "unpatched": base,
    }


def test_streamed_rows_name_their_ring_and_the_goal_counts_them():
    results = {
        "board": "nano33ble",
        "samples": 3,
        "models": [
            {
                "key": "VWW",
                "model": "vww.tflite",
                "base_arena": 36_888,
                "smallest": 16_896,
                "input_bytes": 27_648,
                "unpatched": {"instructions": 1_000_000, "ram_bytes": 40_000},
                "rows": [_row(28_384, 28_384, 0, 31_000, 1_001_000), _row(18_444, 16_896, 2_592, 20_000, 1_010_000)],
            }
        ],
    }
    text = bench_patches.markdown(results)
    lines = text.splitlines()
    assert any(ln.startswith("| 28,384 | 0-3 / 1 | whole | 28,384 |") for ln in lines)
    assert any(
        ln.startswith("| 18,444 | 0-3 / 1 | streamed, 2,592 B | 16,896 | 0.46x | 20,000 (-20,000) |") for ln in lines
    )
    assert "Goal (<= 0.5x the arena for <= 1.15x the instructions): met." in text
