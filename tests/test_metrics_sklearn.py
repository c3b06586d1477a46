"""metrics.classification and metrics.roc_auc (scikit-learn) give what the hand-written numpy gave.

The old implementations are kept here, verbatim in behaviour, as the oracle on fixed inputs.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinyflow import metrics


def old_classification(y_true, y_pred, num_classes=None) -> dict:
    y_true = np.asarray(y_true, dtype=np.int64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.int64).ravel()
    n = int(num_classes or (max(int(y_true.max(initial=-1)), int(y_pred.max(initial=-1))) + 1))
    n = max(n, int(y_true.max(initial=-1)) + 1, int(y_pred.max(initial=-1)) + 1, 1)
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    tp = np.diag(cm).astype(np.float64)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    precision = np.divide(tp, predicted, out=np.zeros(n), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(n), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(n), where=denom > 0)
    present = (support > 0) | (predicted > 0)
    return {
        "accuracy": float(tp.sum() / len(y_true)) if len(y_true) else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class": [
            {"class": i, "precision": precision[i], "recall": recall[i], "f1": f1[i], "support": int(support[i])}
            for i in range(n)
        ],
        "confusion": cm.tolist(),
    }


def old_roc_auc(labels, scores):
    labels = np.asarray(labels).ravel().astype(bool)
    scores = np.asarray(scores, dtype=np.float64).ravel()
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(len(scores))
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    for a, b in zip(starts, np.r_[starts[1:], len(scores)]):
        ranks[order[a:b]] = (a + 1 + b) / 2.0
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _same(new: dict, old: dict) -> None:
    assert new["confusion"] == old["confusion"]
    assert new["accuracy"] == pytest.approx(old["accuracy"], abs=1e-12)
    assert new["macro_f1"] == pytest.approx(old["macro_f1"], abs=1e-12)
    for a, b in zip(new["per_class"], old["per_class"], strict=True):
        assert a == pytest.approx(b, abs=1e-12)


CASES = [
    ([0, 1, 2, 2, 1, 0], [0, 2, 2, 2, 1, 1], None),  # mixed errors
    ([0, 0, 0, 0], [1, 1, 0, 0], 5),  # classes 2..4 neither labelled nor predicted: out of the macro
    ([3, 3, 1], [3, 0, 1], None),  # class 0 predicted but never labelled, class 2 absent
    ([], [], 3),  # nothing measured
    ([1], [1], 1),  # num_classes smaller than the ids seen
]


@pytest.mark.parametrize(("y_true", "y_pred", "n"), CASES)
def test_classification_matches_the_numpy_implementation(y_true, y_pred, n):
    _same(metrics.classification(y_true, y_pred, n), old_classification(y_true, y_pred, n))


def test_classification_matches_on_random_labels():
    rng = np.random.default_rng(15)
    for classes in (2, 5, 10, 37):
        y, p = rng.integers(0, classes, 500), rng.integers(0, classes, 500)
        _same(metrics.classification(y, p, classes), old_classification(y, p, classes))


def test_classification_values_on_a_worked_example():
    m = metrics.classification([0, 0, 1, 1], [0, 1, 1, 1])
    assert m["confusion"] == [[1, 1], [0, 2]] and m["accuracy"] == 0.75
    assert m["per_class"][1]["precision"] == pytest.approx(2 / 3) and m["per_class"][0]["recall"] == 0.5


@pytest.mark.parametrize(
    ("labels", "scores"),
    [
        ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]),
        ([0, 1, 0, 1, 1], [0.5, 0.5, 0.5, 0.9, 0.1]),  # ties share their rank
        ([1, 0], [0.0, 1.0]),
    ],
)
def test_roc_auc_matches_the_rank_implementation(labels, scores):
    assert metrics.roc_auc(labels, scores) == pytest.approx(old_roc_auc(labels, scores), abs=1e-12)


def test_roc_auc_matches_on_random_scores_with_ties():
    rng = np.random.default_rng(7)
    labels, scores = rng.integers(0, 2, 400), rng.integers(0, 20, 400).astype(float)
    assert metrics.roc_auc(labels, scores) == pytest.approx(old_roc_auc(labels, scores), abs=1e-12)


def test_roc_auc_is_undefined_with_one_class():
    assert metrics.roc_auc([1, 1], [0.2, 0.3]) is None and metrics.roc_auc([], []) is None


def test_metrics_come_from_scikit_learn(monkeypatch):
    import sklearn.metrics as skm

    calls = []
    real = skm.confusion_matrix
    monkeypatch.setattr(skm, "confusion_matrix", lambda *a, **k: calls.append(1) or real(*a, **k))
    metrics.classification([0, 1], [1, 1])
    assert calls
