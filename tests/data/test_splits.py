"""tinyflow.data.splits: deterministic stratified splits and the calibration subset."""

from __future__ import annotations

import numpy as np
import pytest

from tinyflow.data import Dataset, load_dataset, representative, split
from tinyflow.errors import DataError, UsageError


def _ds(x, y, task="classification"):
    return Dataset(np.asarray(x, np.float32), np.asarray(y), task, [], "t")


def test_split_is_deterministic_stratified_and_disjoint():
    ds = load_dataset("digits")
    tr, va, te = split(ds, seed=7)
    tr2, _, te2 = split(ds, seed=7)
    assert np.array_equal(te.x, te2.x) and np.array_equal(tr.y, tr2.y)
    assert len(tr) + len(va) + len(te) == len(ds)
    assert abs(len(te) - 0.15 * len(ds)) < 10
    frac = np.bincount(te.y, minlength=10) / np.bincount(ds.y)
    assert frac.min() > 0.12 and frac.max() < 0.18
    ids = _ds(np.arange(100)[:, None], np.arange(100) % 4)
    parts = [set(p.x[:, 0].tolist()) for p in split(ids, seed=1)]
    assert set.union(*parts) == set(range(100)) and sum(map(len, parts)) == 100
    with pytest.raises(UsageError):
        split(ds, val=0.6, test=0.5)


def test_representative_subset():
    ds = load_dataset("sine")
    a, b = representative(ds, 32, seed=1), representative(ds, 32, seed=1)
    assert a.shape == (32, 1) and a.dtype == np.float32 and np.array_equal(a, b)
    assert representative(ds, 5000).shape[0] == len(ds)
    with pytest.raises(DataError, match="empty"):
        representative(ds.subset(slice(0, 0)))
