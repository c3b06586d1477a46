"""Small stores for the data tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import numpy as np

from tinyflow.data.store import create_store


def imu(seed: int, length: int = 20) -> np.ndarray:
    """A seeded 3-axis time series, shape (length, 3)."""
    return np.random.default_rng(seed).normal(size=(length, 3)).astype(np.float32)


def make_store(root, n: int = 40, labels=("a", "b")):
    """A store of `n` IMU samples, labels taken in turn, splits by the stable hash."""
    with create_store(root) as store:
        for i in range(n):
            store.add_sample(imu(i), labels[i % len(labels)], sensor="imu", sample_rate=50, device="d1")
    return store
