"""The bench tables show what was measured: RAM total beside activations only, the instruction
range over several inputs, and how informative the agreement inputs were."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

# bench/ is a top-level folder of the checkout, not part of the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
memory = importlib.import_module("bench.memory")
qemu = importlib.import_module("bench.qemu")
agreement = importlib.import_module("bench.agreement")


def test_memory_table_shows_total_and_activation_ratios():
    row = {
        "model": "mlperf_tiny/kws_ref_model.tflite",
        "ops": 13,
        "ram": 10124,
        "scratch": 1280,
        "ram_total": 11404,
        "lower_bound": 10624,
        "tflm_arena_host": 24272,
        "tflm_persistent_host": 9000,
        "tflm_arena_m4": 22772,
        "ram_vs_tflm_host": 10124 / 24272,
        "total_vs_tflm_host": 11404 / 24272,
        "ram_vs_tflm_m4": 10124 / 22772,
        "total_vs_tflm_m4": 11404 / 22772,
        "ram_vs_lower_bound": 10124 / 10624,
        "weights": 1,
        "code": 2,
        "aot_ms": 1.0,
        "tflm_ms": 2.0,
        "time_ratio": 0.5,
        "identical": True,
    }
    text = memory.markdown({"models": [row]})
    line = next(ln for ln in text.splitlines() if ln.startswith("| kws_ref_model"))
    assert "| 11,404 = 10,124 + 1,280 |" in line and "| 0.50 | 0.44 |" in line and "| 9,000 |" in line
    assert text.splitlines()[0].count("|") == line.count("|")


def test_qemu_table_shows_the_instruction_range_over_the_inputs():
    assert qemu._range([1_000_000, 1_000_500, 1_002_000]) == "1,000,000-1,002,000 (+0.20%)"
    assert qemu._range([]) == "n/a"
    row = {
        "model": "tflm/micro_speech_quantized.tflite",
        "key": None,
        "instructions": 1_392_565,
        "instructions_all": [1_392_565, 1_392_623, 1_392_818, 1_392_597, 1_392_501],
        "deterministic": True,
        "portable_instructions": 2_000_000,
        "agreement": 1.0,
        "portable_agreement": 1.0,
        "flash_bytes": 1,
        "ram_bytes": 2,
        "stack_high_water": 3,
        "clock_hz": 64e6,
    }
    text = qemu.markdown({"cycles_per_instruction": 1.2, "board": "nano33ble", "rows": [row]})
    line = next(ln for ln in text.splitlines() if ln.startswith("| tflm/micro_speech"))
    assert "| 1,392,565 | 1,392,501-1,392,818 (+0.02%) | yes |" in line
    header = next(ln for ln in text.splitlines() if ln.startswith("| model | instructions (DSP)"))
    assert f"range over {qemu.AGREEMENT_SAMPLES} inputs" in header and header.count("|") == line.count("|")


def test_agreement_table_names_the_first_differing_tensor():
    row = {
        "model": "mlperf_tiny/kws_ref_model.tflite",
        "selection": {
            "count": 5,
            "families": ["normal8", "smooth4"],
            "informative": 5,
            "distinct_outputs": 5,
            "pool": 56,
            "pool_distinct_outputs": 44,
            "saturated_fraction": [0.6, 0.8, 0.7, 0.7, 0.7],
        },
        "uniform_distinct": 3,
        "uniform_saturated": 0.9,
        "intermediates": {"ops_compared": 13, "ops_not_traced": 0, "tensors_compared": 13, "samples": 5},
        "first_difference": "sample 0, op 4 (CONV_2D), tensor 'a|b': 1 elements differ, max abs diff 16",
    }
    text = agreement.markdown({"samples": 5, "rows": [row]})
    line = next(ln for ln in text.splitlines() if ln.startswith("| kws_ref_model"))
    assert "| 5 / 3 | 70% / 90% | 5 of 5 | 44 / 56 |" in line and "op 4 (CONV_2D), tensor 'a\\|b'" in line
    header = next(ln for ln in text.splitlines() if ln.startswith("| model |"))
    assert header.count("|") == line.count("|") - line.count("\\|")  # the escaped one is not a column
