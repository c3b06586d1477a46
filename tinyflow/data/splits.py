"""Deterministic splits: stratified (train, val, test) and the calibration subset for int8 quantization.

Every verb splits with the same seed (`split(ds, seed)`), so the test split a model is measured
on never took part in its training, pruning or calibration.
"""

from __future__ import annotations

import numpy as np

from tinyflow.data.dataset import Dataset, check_seed
from tinyflow.errors import DataError, UsageError


def split(ds: Dataset, seed: int = 0, val: float = 0.15, test: float = 0.15) -> tuple[Dataset, Dataset, Dataset]:
    """Split into (train, val, test), deterministically; stratified by class for classification.

    Data that comes split (`ds.splits`: a store's manifest, basic-motions' published split) keeps
    its own split, whatever the seed and fractions: that is what makes it stable.

    Returns:
        Three Datasets named `<name>/train`, `/val`, `/test`. A class with too few samples may
        have none in val or test; with few samples val or test may be empty.
    """
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise UsageError(f"Split fractions val={val} test={test} are invalid", "Use 0 <= val, test and val + test < 1.")
    if ds.splits is not None:
        parts = [np.flatnonzero(ds.splits == tag) for tag in ("train", "val", "test")]
        return tuple(ds.subset(idx, f"{ds.name}/{tag}") for idx, tag in zip(parts, ("train", "val", "test")))
    rng = np.random.default_rng(check_seed(seed))
    groups = (
        [np.flatnonzero(ds.y == c) for c in np.unique(ds.y)] if ds.task == "classification" else [np.arange(len(ds))]
    )
    parts: list[list[np.ndarray]] = [[], [], []]
    for idx in groups:
        idx = rng.permutation(idx)
        n_test, n_val = int(round(len(idx) * test)), int(round(len(idx) * val))
        parts[2].append(idx[:n_test])
        parts[1].append(idx[n_test : n_test + n_val])
        parts[0].append(idx[n_test + n_val :])
    out = []
    for tag, chunks in zip(("train", "val", "test"), parts):
        index = np.sort(np.concatenate(chunks)).astype(np.int64)
        out.append(ds.subset(index, f"{ds.name}/{tag}"))
    return out[0], out[1], out[2]


def representative(ds: Dataset, n: int = 100, seed: int = 0) -> np.ndarray:
    """A deterministic calibration subset: up to `n` samples of `x` (float32) for int8 PTQ."""
    if len(ds) == 0:
        raise DataError(f"Dataset '{ds.name}' is empty: nothing to calibrate with", "Give at least one sample.")
    index = np.random.default_rng(check_seed(seed)).permutation(len(ds))[: max(1, int(n))]
    return np.asarray(ds.x[np.sort(index)], dtype=np.float32)
