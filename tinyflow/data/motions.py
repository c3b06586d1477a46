"""Real sensor recordings shipped inside the installed `aeon` package (no network): basic-motions.

BasicMotions (UEA archive): four students wore a smartwatch and each recorded four activities
(standing, walking, running, badminton) five times; 10 s of 3-axis accelerometer and 3-axis
gyroscope at 10 Hz. 80 recordings, published as 40 train and 40 test; tinyflow keeps that split
(so results compare with the literature) and takes val from train by a stable hash.

The `.ts` files are read as text from aeon's data folder, found without importing aeon (which
would load numba and pandas): the format is a few `@` header lines, then one line per recording,
its channels separated by ':' and the label last.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from tinyflow.data.dataset import Dataset, validate
from tinyflow.data.store import split_for
from tinyflow.errors import DataError
from tinyflow.inputs import read_regular

CHANNELS = ("acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z")
RATE_HZ = 10.0
MAX_TS_BYTES = 16 << 20
_HINT = "Install it: .venv/bin/python -m pip install aeon (tinyflow depends on it; no network is used after that)."


def aeon_data_dir() -> Path:
    """aeon's shipped data folder, located without importing aeon."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("The aeon package, which ships the BasicMotions recordings, is not installed", _HINT)
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"


def load_basic_motions() -> Dataset:
    """BasicMotions as (80, 100, 6) float32 windows (time, channels), its published split kept."""
    folder = aeon_data_dir() / "BasicMotions"
    xs, labels, splits = [], [], []
    for part in ("TRAIN", "TEST"):
        x, y, names = read_ts(folder / f"BasicMotions_{part}.ts")
        xs.append(x)
        labels += y
        splits += ["train" if part == "TRAIN" else "test"] * len(y)
    classes = sorted(set(labels))
    splits = np.array(splits)
    # val: a stable fifth of the published train split (the test split stays as published)
    for i in np.flatnonzero(splits == "train"):
        if split_for(f"basic-motions:{i}", val=0.2, test=0.0) == "val":
            splits[i] = "val"
    y = np.array([classes.index(label) for label in labels], dtype=np.int64)
    return validate(Dataset(np.concatenate(xs), y, "classification", classes, "basic-motions", splits))


def read_ts(path: Path) -> tuple[np.ndarray, list[str], list[str]]:
    """A UEA/UCR .ts file of equal-length series: x (cases, length, channels), labels, declared classes."""
    text = read_regular(path, "Dataset file", MAX_TS_BYTES, DataError).decode("utf-8", "replace")
    classes, rows, labels, in_data = [], [], [], False
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            key, _, value = line.partition(" ")
            if key.lower() == "@classlabel":
                classes = value.split()[1:]
            in_data = key.lower() == "@data"
            continue
        *channels, label = line.split(":")
        try:
            rows.append([[float(v) for v in ch.split(",")] for ch in channels])
        except ValueError:
            raise DataError(f"{path}: line {number} has a value that is not a number", _HINT) from None
        labels.append(label.strip())
    if not rows or len({(len(r), *map(len, r)) for r in rows}) != 1:
        raise DataError(f"{path} has no recordings, or recordings of different lengths", _HINT)
    return np.asarray(rows, dtype=np.float32).transpose(0, 2, 1), labels, classes
