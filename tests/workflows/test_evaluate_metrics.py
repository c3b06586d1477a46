"""Metrics (numpy only) cross-checked against scikit-learn, plus edge cases."""

import numpy as np
import pytest

from tinyflow import metrics

sk = pytest.importorskip("sklearn.metrics")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classification_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 5, 300)
    p = np.where(rng.random(300) < 0.7, y, rng.integers(0, 5, 300))
    m = metrics.classification(y, p, num_classes=5)
    assert m["accuracy"] == pytest.approx(sk.accuracy_score(y, p))
    assert m["macro_f1"] == pytest.approx(sk.f1_score(y, p, average="macro"))
    assert m["confusion"] == sk.confusion_matrix(y, p, labels=range(5)).tolist()
    prec = sk.precision_score(y, p, average=None, labels=range(5), zero_division=0)
    rec = sk.recall_score(y, p, average=None, labels=range(5), zero_division=0)
    assert [c["precision"] for c in m["per_class"]] == pytest.approx(prec.tolist())
    assert [c["recall"] for c in m["per_class"]] == pytest.approx(rec.tolist())


def test_classification_class_never_predicted_has_precision_zero():
    m = metrics.classification([0, 1, 2, 2], [0, 1, 1, 1], num_classes=4)
    assert m["per_class"][2]["precision"] == 0.0 and m["per_class"][2]["recall"] == 0.0
    assert m["per_class"][3]["support"] == 0
    assert m["macro_f1"] == pytest.approx(sk.f1_score([0, 1, 2, 2], [0, 1, 1, 1], average="macro"))
    assert len(m["confusion"]) == 4


def test_regression_matches_sklearn():
    rng = np.random.default_rng(3)
    y, p = rng.normal(size=200), rng.normal(size=200)
    m = metrics.regression(y, p)
    assert m["mae"] == pytest.approx(sk.mean_absolute_error(y, p))
    assert m["rmse"] == pytest.approx(np.sqrt(sk.mean_squared_error(y, p)))


@pytest.mark.parametrize("seed", [0, 5])
def test_auc_matches_sklearn_with_ties(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 500)
    scores = np.round(labels * 0.5 + rng.normal(size=500), 1)  # rounding makes many ties
    assert metrics.roc_auc(labels, scores) == pytest.approx(sk.roc_auc_score(labels, scores))


def test_auc_undefined_with_one_class():
    assert metrics.roc_auc([0, 0, 0], [0.1, 0.5, 0.2]) is None


def test_agreement_counts_exact_top1_and_max_diff():
    ref = [[np.array([1, 5, 3], np.int8)], [np.array([9, 0, 0], np.int8)], [np.array([0, 0, 7], np.int8)]]
    dev = [[np.array([1, 5, 3], np.int8)], [np.array([9, 2, 0], np.int8)], [np.array([8, 0, 7], np.int8)]]
    a = metrics.agreement(dev, ref)
    assert a["exact_match_rate"] == pytest.approx(1 / 3)
    assert a["top1_agreement"] == pytest.approx(2 / 3)
    assert a["max_abs_diff"] == 8
    assert a["mismatched"] == [1, 2]


def test_agreement_int8_difference_does_not_wrap():
    a = metrics.agreement([[np.array([-128], np.int8)]], [[np.array([127], np.int8)]])
    assert a["max_abs_diff"] == 255


def test_latency_percentiles_and_throughput():
    lat = metrics.latency(np.arange(1, 101), wall_seconds=2.0)
    assert lat["p50_us"] == pytest.approx(50.5) and lat["p99_us"] == pytest.approx(99.01)
    assert lat["throughput_per_s"] == pytest.approx(50.0)
    counts, edges = metrics.histogram([7.0, 7.0, 7.0])
    assert counts == [3] and len(edges) == 2
