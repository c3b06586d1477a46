"""tinyflow.data.builtin: digits (real), sine and gestures (generated, seeded)."""

from __future__ import annotations

import numpy as np

from tinyflow.data import load_dataset, validate


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
