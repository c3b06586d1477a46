"""The runner's two modes and scores (tinyflow.mlperf.run, .scoring) on an in-memory DUT."""

from __future__ import annotations

import numpy as np
import pytest

from tinyflow.mlperf.benchmarks import BENCHMARKS
from tinyflow.mlperf.dataset import Entry
from tinyflow.mlperf.dut import InferReply
from tinyflow.mlperf.run import accuracy_records, performance_records
from tinyflow.mlperf.scoring import auc, file_predictions, summarize, top1


class ClockDut:
    """Each inference takes `us` device microseconds; results are the loaded bytes' first values."""

    def __init__(self, us: float):
        self.us, self.clock, self.data, self.calls = us, 0, b"", []

    def load(self, data):
        self.data = data

    def infer(self, n, w, timeout=None):
        self.calls.append((n, w))
        start = self.clock + int(w * self.us)
        self.clock = start + int(n * self.us)
        return InferReply(n, w, start, self.clock, [float(b) for b in self.data[:3]])


def test_performance_windows_last_ten_seconds_and_give_inferences_per_second():
    dut = ClockDut(us=2500.0)
    entries = [Entry(f"f{i}", 3, 0, 0, 0, bytes([i, 1, 2])) for i in range(7)]
    records = performance_records(dut, BENCHMARKS["kws01"], entries)
    assert len(records) == 5 and [r["file"] for r in records] == ["f0", "f1", "f2", "f3", "f4"]
    for r in records:
        assert r["infer"]["elapsed_time"] >= 10_000_000
        assert r["infer"]["throughput"] == pytest.approx(400.0)
        assert r["infer"]["warmups"] == 10  # the runner's `infer 70 10` for kws01
        assert r["mode"] == "p"


def test_accuracy_loads_every_ad_window_and_records_its_file():
    entry = Entry("a.bin", 2, 1, 4, 4, bytes(range(12)))  # three 4-byte windows
    records = accuracy_records(ClockDut(us=10.0), BENCHMARKS["ad01"], [entry])
    assert [r["infer"]["results"] for r in records] == [[0.0, 1.0, 2.0], [4.0, 5.0, 6.0], [8.0, 9.0, 10.0]]
    assert all(r["total_length"] == 3 and r["class"] == "1" and r["infer"]["iterations"] == 1 for r in records)


def _records(rows):
    return [{"file": f, "class": str(c), "infer": {"results": list(r)}} for f, c, r in rows]


def test_scores_as_the_runner_computes_them():
    # Two files of three classes, the second averaged over two inferences.
    recs = _records([("x", 0, (8, 1, 1)), ("y", 2, (1, 1, 8)), ("y", 2, (1, 3, 6)), ("z", 1, (1, 2, 7))])
    y_pred, y_true = file_predictions(recs)
    assert y_pred[1] == pytest.approx([0.1, 0.2, 0.7])  # normalized, then averaged
    assert top1(y_pred, y_true) == pytest.approx(200 / 3)
    s = summarize(recs)
    assert s["files"] == 3 and s["top1"] == pytest.approx(200 / 3)
    # AD: one score per file; a perfect separation gives AUC 1 and the runner's F1-like 100.
    ad = _records([("n1", 0, (1.0,)), ("n2", 0, (2.0,)), ("a1", 1, (9.0,)), ("a2", 1, (7.0,))])
    y_pred, y_true = file_predictions(ad)
    assert auc(y_pred, y_true) == 1.0
    assert top1(y_pred, y_true) == pytest.approx(100.0, abs=1e-5)
    swapped = _records([("n1", 0, (9.0,)), ("a1", 1, (1.0,))])
    assert auc(*file_predictions(swapped)) == 0.0
    assert np.isclose(summarize(ad)["auc"], 1.0)
