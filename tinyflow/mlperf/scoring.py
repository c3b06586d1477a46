"""The runner's accuracy-mode scores (benchmark/runner/main.py summarize_result), reproduced.

Per file, the results of its inferences (AD: its windows' scores) are normalized (classifiers:
divided by their sum), averaged, and the file's class is the majority argmax. Top-1 is the
share of files whose averaged vector's argmax is the label; for one score per file (AD) it is
the runner's threshold sweep of (precision + recall) / 2. AUC: binary on column 1 (two
classes), on the score (AD), else one-vs-rest averaged over classes, as scikit-learn computes.
"""

from __future__ import annotations

import numpy as np

from tinyflow.metrics import roc_auc


def normalize(results: list[float]) -> list[float]:
    """A classifier's result vector divided by its sum (one value: unchanged), as the runner does."""
    if len(results) == 1:
        return list(results)
    total = sum(results)
    return [r / total for r in results] if total else list(results)


def file_predictions(records: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """(y_pred, y_true) from results.json records: one averaged vector and one label per file."""
    per_file: dict[str, dict] = {}
    for r in records:
        if "infer" not in r or "class" not in r or "file" not in r or r.get("error"):
            continue
        entry = per_file.setdefault(r["file"], {"label": int(r["class"]), "results": []})
        entry["results"].append(normalize(r["infer"]["results"]))
    y_pred = np.array([np.mean(e["results"], axis=0) for e in per_file.values()], dtype=np.float64)
    y_true = np.array([e["label"] for e in per_file.values()], dtype=np.int64)
    return y_pred, y_true


def top1(y_pred: np.ndarray, y_true: np.ndarray) -> float:
    """The runner's `Top 1%`."""
    if y_pred.shape[1] == 1:
        return _threshold_accuracy(y_pred[:, 0], y_true)
    return float(100.0 * np.mean(np.argmax(y_pred, axis=1) == y_true))


def _threshold_accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    lo, hi = float(np.min(scores)), float(np.max(scores))
    best = 0.0
    for threshold in lo + np.arange(0.0, 1.0, 0.01) * (hi - lo):
        pred = scores > threshold
        tp = np.sum(pred[labels == 1])
        fp = np.sum(pred[labels == 0])
        fn = np.sum(~pred[labels == 1])
        precision = tp / (tp + fp + 1e-8)
        recall = tp / (tp + fn + 1e-8)
        best = max(best, float(100 * (precision + recall) / 2))
    return best


def auc(y_pred: np.ndarray, y_true: np.ndarray) -> float | None:
    """The runner's `AUC` (None when undefined: a single class). Multiclass: the mean over the
    classes present of their one-vs-rest AUC (the runner's scikit-learn call needs all of them)."""
    if y_pred.shape[1] <= 2:
        return roc_auc(y_true == 1, y_pred[:, -1])
    aucs = [roc_auc(y_true == c, y_pred[:, c]) for c in np.unique(y_true)]
    aucs = [a for a in aucs if a is not None]
    return float(np.mean(aucs)) if aucs else None


def summarize(records: list[dict]) -> dict:
    """{"top1": ..., "auc": ..., "files": n} of accuracy-mode records."""
    y_pred, y_true = file_predictions(records)
    if len(y_true) == 0:
        return {"top1": None, "auc": None, "files": 0}
    return {"top1": top1(y_pred, y_true), "auc": auc(y_pred, y_true), "files": int(len(y_true))}
