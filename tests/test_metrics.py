"""Training, quantization and evaluation report their task metrics through one module."""

from __future__ import annotations

import numpy as np
import pytest

from tinyflow import metrics
from tinyflow.data import Dataset
from tinyflow.model import train


def test_training_metrics_are_the_evaluation_metrics(monkeypatch):
    rng = np.random.default_rng(0)
    probs, y = rng.random((40, 3)), rng.integers(0, 3, 40)
    ds = Dataset(x=np.zeros((40, 1), np.float32), y=y)
    assert train.metrics_of(probs, ds) == {"accuracy": metrics.accuracy(y, probs.argmax(axis=1))}
    targets, pred = rng.normal(size=(40, 2)), rng.normal(size=(40, 2))
    reg = Dataset(x=np.zeros((40, 1), np.float32), y=targets.astype(np.float32), task="regression")
    got = train.metrics_of(pred, reg)
    assert got == metrics.regression(reg.y, pred, keys=("mse", "mae"))
    assert got["mse"] == pytest.approx(np.mean((pred - reg.y) ** 2)) and list(got) == ["mse", "mae"]
    calls = []
    monkeypatch.setattr(metrics, "accuracy", lambda *a: calls.append(a) or 0.5)
    assert train.metrics_of(probs, ds) == {"accuracy": 0.5} and len(calls) == 1


def test_regression_reports_mae_and_rmse_by_default():
    m = metrics.regression([0.0, 2.0], [1.0, 0.0])
    assert m == {"mae": 1.5, "rmse": pytest.approx(np.sqrt(2.5))}
