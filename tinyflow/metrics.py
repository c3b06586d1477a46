"""Task metrics for training, quantization and evaluation alike (scikit-learn's, imported lazily).

Pure functions over arrays: task metrics (classification, regression, anomaly AUC; through
scikit-learn), agreement of device outputs with the host reference (numpy), and latency
percentiles. Each returns Python numbers (or
a plain dict of them) so it goes straight into report.json. Below model/ and workflows/: both use it.
"""

from __future__ import annotations

import numpy as np


def accuracy(y_true, y_pred) -> float:
    """Share of samples whose predicted class id equals the label (0.0 for no samples)."""
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    return float(np.mean(y_true == y_pred)) if y_true.size else 0.0


def classification(y_true, y_pred, num_classes: int | None = None) -> dict:
    """Accuracy, macro F1, per-class precision/recall/F1/support and the confusion matrix (scikit-learn).

    Args:
        y_true, y_pred: integer class ids, one per sample.
        num_classes: size of the confusion matrix (default: largest id seen + 1).
    Returns:
        dict with accuracy, macro_f1, per_class (list of dicts) and confusion (rows = true class,
        columns = predicted class). A class with no prediction has precision 0; one absent from
        the labels has recall 0; classes neither predicted nor labelled are left out of the
        macro average (they would pull it down for classes the test set does not have).
    """
    from sklearn import metrics as skm

    y_true = np.asarray(y_true, dtype=np.int64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.int64).ravel()
    n = max(int(num_classes or 0), int(y_true.max(initial=-1)) + 1, int(y_pred.max(initial=-1)) + 1, 1)
    if y_true.size == 0:  # scikit-learn refuses empty inputs; nothing was measured
        zero = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
        return {
            "accuracy": 0.0,
            "macro_f1": 0.0,
            "per_class": [{"class": i, **zero} for i in range(n)],
            "confusion": np.zeros((n, n), dtype=np.int64).tolist(),
        }
    labels = np.arange(n)
    cm = skm.confusion_matrix(y_true, y_pred, labels=labels)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=None, zero_division=0
    )
    present = labels[(cm.sum(axis=1) > 0) | (cm.sum(axis=0) > 0)]
    return {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "macro_f1": float(skm.f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        "per_class": [
            {
                "class": i,
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i in range(n)
        ],
        "confusion": cm.tolist(),
    }


def regression(y_true, y_pred, keys: tuple[str, ...] = ("mae", "rmse")) -> dict:
    """Errors over every element: mean absolute (mae), mean squared (mse), root mean squared (rmse).

    `keys` picks which, in that order: evaluation reports mae and rmse, training mse and mae (Keras's)."""
    y_true = np.asarray(y_true, dtype=np.float64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"regression targets have {y_true.size} values but predictions {y_pred.size}")
    err = y_pred - y_true
    mse = float((err**2).mean()) if err.size else 0.0
    every = {"mae": float(np.abs(err).mean()) if err.size else 0.0, "mse": mse, "rmse": float(np.sqrt(mse))}
    return {k: every[k] for k in keys}


def roc_auc(labels, scores) -> float | None:
    """Area under the ROC curve (scikit-learn's roc_auc_score; tied scores count half).

    Args:
        labels: 1 = positive (anomalous), 0 = negative.
        scores: higher = more likely positive.
    Returns:
        The AUC, or None when only one class is present (it is undefined).
    """
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(labels).ravel().astype(bool)
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if labels.all() or not labels.any():
        return None
    return float(roc_auc_score(labels, scores))


def agreement(device: list[list[np.ndarray]], reference: list[list[np.ndarray]]) -> dict:
    """How far the device's raw (quantized) outputs are from the host reference's.

    Args:
        device, reference: per sample, the list of output tensors (same dtype and shape).
    Returns:
        exact_match_rate (share of samples whose every output is bit-identical), max_abs_diff
        (in output units, e.g. int8 steps), top1_agreement (share of samples whose first output
        has the same argmax), mismatched (indices of the samples that differ, first 20).
    """
    if len(device) != len(reference):
        raise ValueError(f"{len(device)} device results but {len(reference)} reference results")
    if not device:
        return {"exact_match_rate": 0.0, "max_abs_diff": 0, "top1_agreement": 0.0, "mismatched": []}
    exact, top1, max_diff, mismatched = 0, 0, 0, []
    for i, (dev, ref) in enumerate(zip(device, reference)):
        same = len(dev) == len(ref) and all(
            np.array_equal(np.asarray(d).ravel(), np.asarray(r).ravel()) for d, r in zip(dev, ref)
        )
        exact += same
        if not same and len(mismatched) < 20:
            mismatched.append(i)
        for d, r in zip(dev, ref):
            d64, r64 = np.asarray(d, np.int64).ravel(), np.asarray(r, np.int64).ravel()
            if d64.shape == r64.shape and d64.size:
                max_diff = max(max_diff, int(np.abs(d64 - r64).max()))
            elif d64.shape != r64.shape:
                max_diff = max(max_diff, int(np.iinfo(np.int64).max))
        d0, r0 = np.asarray(dev[0]).ravel(), np.asarray(ref[0]).ravel()
        top1 += bool(d0.size and d0.shape == r0.shape and int(np.argmax(d0)) == int(np.argmax(r0)))
    n = len(device)
    return {
        "exact_match_rate": exact / n,
        "max_abs_diff": max_diff,
        "top1_agreement": top1 / n,
        "mismatched": mismatched,
    }


def latency(microseconds, wall_seconds: float | None = None) -> dict:
    """Device latency percentiles (p50/p90/p99, mean, min, max in us) and host throughput.

    Args:
        microseconds: per-sample inference time as the device measured it.
        wall_seconds: host time spent on those samples (for samples per second), if known.
    """
    us = np.asarray(microseconds, dtype=np.float64).ravel()
    if us.size == 0:
        return {"samples": 0}
    p50, p90, p99 = np.percentile(us, [50, 90, 99])
    out = {
        "samples": int(us.size),
        "p50_us": float(p50),
        "p90_us": float(p90),
        "p99_us": float(p99),
        "mean_us": float(us.mean()),
        "min_us": float(us.min()),
        "max_us": float(us.max()),
    }
    if wall_seconds:
        out["throughput_per_s"] = float(us.size / wall_seconds)
    return out


def histogram(values, bins: int = 20) -> tuple[list[int], list[float]]:
    """Counts and bin edges of `values` (edges has one more item than counts)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size == 0:
        return [], []
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:  # every sample took the same time: one bin around it
        lo, hi, bins = lo - 0.5, hi + 0.5, 1
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    return counts.tolist(), edges.tolist()
