"""tinyflow.data: built-in sets, files, validation errors, splits (no TensorFlow)."""

from __future__ import annotations

import numpy as np
import pytest

from tinyflow.data import Dataset, load_dataset, representative, split, validate
from tinyflow.errors import DataError, UsageError


def test_digits_is_real_8x8_in_unit_range():
    ds = load_dataset("digits")
    assert ds.x.shape == (1797, 8, 8, 1) and ds.x.dtype == np.float32
    assert 0.0 <= ds.x.min() and ds.x.max() == 1.0
    assert ds.num_classes == 10 and sorted(np.unique(ds.y)) == list(range(10))
    validate(ds, input_shape=(8, 8, 1), num_classes=10)


def test_sine_is_noisy_sine():
    ds = load_dataset("sine", seed=3)
    assert ds.task == "regression" and ds.x.shape == (1000, 1)
    residual = ds.y - np.sin(ds.x[:, 0])
    assert 0.05 < residual.std() < 0.15


def test_gestures_seeded_balanced_and_separable():
    a, b = load_dataset("gestures", seed=1, n=250), load_dataset("gestures", seed=1, n=250)
    c = load_dataset("gestures", seed=2, n=250)
    assert np.array_equal(a.x, b.x) and not np.array_equal(a.x, c.x)
    assert a.x.shape == (250, 64, 3) and a.class_names[0] == "idle" and a.num_classes >= 5
    assert np.bincount(a.y).tolist() == [50] * 5
    # gravity: about 1 g in magnitude on average, whatever the orientation
    assert 0.9 < np.linalg.norm(a.x.mean(axis=1), axis=1).mean() < 1.1
    energy = a.x.std(axis=1).sum(axis=1)
    idle, moving = energy[a.y == 0], energy[a.y != 0]
    assert idle.max() < np.median(moving)
    # per-sample variation: no two windows of a class are the same
    assert len({round(float(e), 6) for e in energy}) == 250


def test_npz_round_trip_and_pickle_refused(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.ones((4, 3), np.float32), y=np.array([0, 1, 2, 1]))
    ds = load_dataset(str(path))
    assert ds.task == "classification" and ds.x.shape == (4, 3) and ds.num_classes == 3
    bad = tmp_path / "obj.npz"
    np.savez(bad, x=np.array([{"a": 1}], dtype=object), y=np.array([0]))
    with pytest.raises(DataError, match="pickle"):
        load_dataset(str(bad))
    ad = tmp_path / "ad.npz"
    np.savez(ad, x=np.ones((4, 640), np.float32), y=np.array([0, 0, 1, 0]), task="anomaly")
    assert load_dataset(str(ad)).task == "anomaly"
    np.savez(ad, x=np.ones((4, 3), np.float32), y=np.array([0, 0, 1, 0]), task="clustering")
    with pytest.raises(DataError, match="task 'clustering'"):
        load_dataset(str(ad))
    nokeys = tmp_path / "k.npz"
    np.savez(nokeys, a=np.ones(3))
    with pytest.raises(DataError, match="no x, y"):
        load_dataset(str(nokeys))


def test_csv_with_and_without_header(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("label,f1,f2\n0,0.5,1\n1,2,3\n")
    ds = load_dataset(str(path))
    assert ds.x.tolist() == [[0.5, 1.0], [2.0, 3.0]] and ds.y.tolist() == [0, 1]
    reg = tmp_path / "r.csv"
    reg.write_text("0.25,1\n1.5,2\n")
    assert load_dataset(str(reg)).task == "regression"
    ragged = tmp_path / "bad.csv"
    ragged.write_text("0,1,2\n1,2\n")
    with pytest.raises(DataError, match="row 2 has 2 fields"):
        load_dataset(str(ragged))


def test_unknown_dataset_and_missing_file():
    with pytest.raises(UsageError, match="Unknown dataset 'mnist'"):
        load_dataset("mnist")
    with pytest.raises(DataError, match="does not exist"):
        load_dataset("/nonexistent/x.npz")


def _ds(x, y, task="classification"):
    return Dataset(np.asarray(x, np.float32), np.asarray(y), task, [], "t")


@pytest.mark.parametrize("ds, kwargs, match", [
    (_ds(np.zeros((0, 3)), np.zeros(0, np.int64)), {}, r"is empty \(x has shape \(0, 3\)\)"),
    (_ds(np.zeros((5, 3)), np.zeros(4, np.int64)), {}, "5 samples in x but 4 labels"),
    (_ds([[0, np.nan], [1, np.inf]], [0, 1]), {}, "1 NaN and 1 inf values in x"),
    (_ds(np.zeros((2, 3)), [0.0, np.nan], "regression"), {}, "1 NaN and 0 inf values in y"),
    (_ds(np.zeros((2, 4)), [0, 1]), {"input_shape": (8, 8, 1)}, r"shape \(4,\) but the model expects \(8, 8, 1\)"),
    (_ds(np.zeros((2, 3)), [0, 10]), {"num_classes": 10}, r"labels from 0 to 10 but they must be in \[0, 9\]"),
    (_ds(np.zeros((2, 3)), [-1, 1]), {}, "labels from -1 to 1"),
    (_ds(np.zeros((2, 3)), [0.5, 1.0]), {}, "float64 labels"),
])
def test_validate_errors_name_what_was_received(ds, kwargs, match):
    with pytest.raises(DataError, match=match) as info:
        validate(ds, **kwargs)
    assert info.value.hint


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
