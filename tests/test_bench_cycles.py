"""bench/cycles.py: op types as the kernel work splits them, and the per-MAC tables it renders."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from conftest import corpus_path

# bench/ is a top-level folder of the checkout, not part of the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
bench_cycles = importlib.import_module("bench.cycles")


def test_conv_2d_splits_into_1x1_and_kxk_by_the_filter():
    from tinyflow.tflite import read_model

    model = read_model(corpus_path("mlperf_tiny/kws_ref_model.tflite").read_bytes())
    labels = [bench_cycles.op_label(model, op) for op in model.ops]
    assert labels.count("CONV_2D kxk") == 1 and labels.count("CONV_2D 1x1") == 4  # DS-CNN: 10x4 stem, then pointwise
    assert labels[0] == "CONV_2D kxk" and "DEPTHWISE_CONV_2D" in labels


def test_tables_divide_by_macs_and_share_the_cycles():
    row = {
        "model": "m.tflite",
        "key": "KWS",
        "instructions": 6_000_000,
        "cycles": 8_000_000,
        "cpi": 8 / 6,
        "macs": 3_000_000,
        "types": {
            "CONV_2D 1x1": {"ops": 4, "macs": 2_000_000, "instructions": 3_000_000, "cycles": 4_000_000},
            "SOFTMAX": {"ops": 1, "macs": 0, "instructions": 2_000, "cycles": 3_000},
        },
        "classes": {},
    }
    text = bench_cycles.markdown({"board": "nano33ble", "rows": [row, {"model": "x", "key": "IC", "error": "boom"}]})
    assert "| KWS | 6.000 M | 8.000 M | 1.33 | 3.00 M | 2.00 | 2.67 | 0.78x |" in text  # 6.0 M / 7.70 M
    assert "| CONV_2D 1x1 | 1.50 (2.00) |" in text  # the table: instructions/MAC (cycles/MAC)
    assert "| SOFTMAX | 1 | 0 | 2,000 | - | 3,000 | - | 1.50 | 0.1% |" in text
    assert "| IC | failed: boom |" in text
