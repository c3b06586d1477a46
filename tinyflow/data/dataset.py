"""The Dataset type and its checks: what every consumer (train, prune, quantize, eval, demo) accepts.

`Dataset(x, y, task, class_names, name)`: `x` float32 with the sample axis first, `y` int64 labels
(classification), float32 targets (regression) or int64 0/1 flags (anomaly: 1 = anomalous).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinyflow.errors import DataError, UsageError

TASKS = ("classification", "regression", "anomaly")
MAX_CLASSES = 65_536  # a larger class id is a corrupt label, not a class (and would size tables)


@dataclass
class Dataset:
    """Samples `x` (float32, samples first) and their labels or targets `y`."""

    x: np.ndarray
    y: np.ndarray
    task: str = "classification"
    class_names: list[str] = field(default_factory=list)
    name: str = "dataset"
    # Set by data that comes split (a store's manifest, a published train/test split): one of
    # train, val, test per sample, which `split()` keeps instead of drawing its own.
    splits: np.ndarray | None = None
    version: str | None = None  # a store's manifest hash: reports record which data they used

    def __len__(self) -> int:
        return int(len(self.x))

    @property
    def num_classes(self) -> int:
        """Number of classes (classification), else 0."""
        if self.task != "classification":
            return 0
        if self.class_names:
            return len(self.class_names)
        return int(self.y.max()) + 1 if len(self.y) else 0

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one sample."""
        return tuple(int(d) for d in self.x.shape[1:])

    def subset(self, index, name: str | None = None) -> "Dataset":
        """The samples at `index` (an index array or slice), same task and class names."""
        splits = None if self.splits is None else self.splits[index]
        names = list(self.class_names)
        return Dataset(self.x[index], self.y[index], self.task, names, name or self.name, splits, self.version)


def validate(ds: Dataset, input_shape=None, num_classes: int | None = None) -> Dataset:
    """Check a dataset is usable (for a model with `input_shape`/`num_classes` if given).

    Args:
        input_shape: shape of one sample the model expects (without the batch axis); None skips.
        num_classes: classes the model outputs; labels must lie in [0, num_classes).
    Returns:
        `ds` unchanged, so calls chain.
    Raises:
        DataError: empty set, mismatched lengths, unknown task, NaN/inf, wrong shape, bad labels.
    """
    x, y = np.asarray(ds.x), np.asarray(ds.y)
    if ds.task not in TASKS:
        raise DataError(f"Dataset '{ds.name}' has task '{ds.task}'", "Use one of " + ", ".join(TASKS) + ".")
    if x.ndim == 0 or len(x) == 0:
        raise DataError(f"Dataset '{ds.name}' is empty (x has shape {x.shape})", "Give at least one sample.")
    if y.ndim == 0 or len(x) != len(y):
        raise DataError(
            f"Dataset '{ds.name}' has {len(x)} samples in x but {y.size if y.ndim == 0 else len(y)} labels in y",
            "Give exactly one label per sample.",
        )
    _check_finite(ds.name, "x", x)
    _check_finite(ds.name, "y", y)
    if input_shape is not None:
        want = tuple(int(d) for d in input_shape if d is not None)
        if tuple(x.shape[1:]) != want:
            raise DataError(
                f"Dataset '{ds.name}' has samples of shape {tuple(x.shape[1:])} but the model expects {want}",
                "Reshape the data (or pick a model built for this input shape).",
            )
    if ds.task in ("classification", "anomaly"):
        if not np.issubdtype(y.dtype, np.integer):
            raise DataError(
                f"Dataset '{ds.name}' has {y.dtype} labels for {ds.task}", "Use integer class labels 0..N-1."
            )
        check_labels(ds.name, y, num_classes if num_classes is not None else (2 if ds.task == "anomaly" else None))
    return ds


def check_labels(name: str, y: np.ndarray, top: int | None, why: str = "") -> None:
    """Labels must be class ids in [0, top) (a label outside is scored as a class that does not exist).

    Args:
        top: the number of classes (None: any id below MAX_CLASSES); why: where `top` comes from.
    """
    end = top if top is not None else MAX_CLASSES
    bad = np.flatnonzero((y < 0) | (y >= end))
    if bad.size:
        first = int(bad[0])
        why = f" ({why})" if why else ""
        raise DataError(
            f"Dataset '{name}' has labels from {int(y.min())} to {int(y.max())} but they must be in "
            f"[0, {end - 1}]{why}: label {int(y[first])} in sample {first}",
            "Map the labels to 0..N-1, or use a model with more classes.",
        )


def check_seed(seed) -> int:
    """numpy refuses negative seeds with a bare ValueError; say it once, here."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UsageError(f"The seed must be a non-negative integer, got {seed!r}", "Pass e.g. --seed 0.")
    return int(seed)


def _check_finite(name: str, what: str, arr: np.ndarray) -> None:
    if np.issubdtype(arr.dtype, np.floating):
        bad = ~np.isfinite(arr)
        if bad.any():
            first = int(np.argwhere(bad)[0][0])
            n_nan, n_inf = int(np.isnan(arr).sum()), int(np.isinf(arr).sum())
            raise DataError(
                f"Dataset '{name}' has {n_nan} NaN and {n_inf} inf values in {what} (first in sample {first})",
                "Drop or impute those samples before training.",
            )
