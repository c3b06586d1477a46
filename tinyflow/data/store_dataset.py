"""A dataset store read as a Dataset: what every verb gets when `--data` names a store folder.

Samples become float32 arrays shaped (time, channels): WAV audio scaled to [-1, 1) (int16 / 32768,
as TensorFlow's decode_wav does), CSV and NPY values as written. Labels are the class names in
sorted order; each sample keeps the split its manifest gives it, and the Dataset carries the
store's version.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np

from tinyflow.data.dataset import Dataset, validate
from tinyflow.data.store import open_store
from tinyflow.errors import DataError


def load_store(root: str | os.PathLike) -> Dataset:
    """Read every sample of the store at `root` into one Dataset (checked like any user data).

    Raises:
        DataError: the store is empty, a file is missing, damaged or changed since it was added,
            or the samples do not all have one shape (segment long takes into windows first).
    """
    store = open_store(root)
    if not store.entries:
        raise DataError(f"The store {root} has no samples", "Add some with `tinyflow data import`.")
    arrays = []
    for entry, got in store.samples():
        if isinstance(got, DataError):
            raise got
        arrays.append(sample_values(got.data, entry.format))
    shapes = Counter(a.shape for a in arrays)
    if len(shapes) > 1:
        common, n = shapes.most_common(1)[0]
        odd = next(i for i, a in enumerate(arrays) if a.shape != common)
        raise DataError(
            f"The store {root} has samples of {len(shapes)} shapes: {n} are {common} but "
            f"{store.entries[odd].path} is {arrays[odd].shape}",
            "Cut long recordings into equal windows with `tinyflow data segment`.",
        )
    names = sorted({e.label for e in store.entries})
    index = {name: i for i, name in enumerate(names)}
    ds = Dataset(
        np.stack(arrays),
        np.array([index[e.label] for e in store.entries], dtype=np.int64),
        "classification",
        names,
        Path(root).resolve().name or "store",
        np.array([e.split for e in store.entries]),
        store.version,
    )
    return validate(ds)


def sample_values(data: np.ndarray, fmt: str) -> np.ndarray:
    """A decoded sample as the float32 values a model sees (WAV scaled to [-1, 1))."""
    if fmt == "wav":
        return data.astype(np.float32) / 32768.0
    return data.astype(np.float32)
