"""Datasets without TensorFlow: built-in sets, user .npz/CSV files, validation, splits, calibration.

Public API (kept stable; evaluation and the demo use it):

- `Dataset(x, y, task, class_names, name)`: `x` float32 with the sample axis first, `y` int64
  labels (classification), float32 targets (regression) or int64 0/1 flags (anomaly: 1 = anomalous).
- `load_dataset(spec, seed=0)`: `digits`, `sine`, `gestures`, a `.npz` file or a `.csv` file.
- `validate(ds, input_shape=None, num_classes=None)`: raise DataError for unusable data.
- `split(ds, seed=0, val=0.15, test=0.15)`: deterministic (stratified for classification).
- `representative(ds, n=100, seed=0)`: a calibration subset of `x` for int8 quantization.

File formats:

- `.npz`: arrays `x` (samples first) and `y` (one label or target per sample). Loaded with
  `allow_pickle=False`: object arrays are refused, user data is never unpickled. Integer `y` means
  classification, float `y` regression; an optional `class_names` string array names the classes
  and an optional `task` string ("anomaly": y holds 0 = normal, 1 = anomalous) overrides the guess.
- `.csv`: one sample per row, the label in the first column and the features after it, comma
  separated. An optional header row (detected when its first field is not a number) names the
  columns. Integer labels mean classification; non-integer labels mean regression.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyflow.errors import DataError, UsageError

TASKS = ("classification", "regression", "anomaly")
BUILTIN = ("digits", "sine", "gestures")
GESTURES = ("idle", "wave", "punch", "circle", "lift")


@dataclass
class Dataset:
    """Samples `x` (float32, samples first) and their labels or targets `y`."""

    x: np.ndarray
    y: np.ndarray
    task: str = "classification"
    class_names: list[str] = field(default_factory=list)
    name: str = "dataset"

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
        return Dataset(self.x[index], self.y[index], self.task, list(self.class_names),
                       name or self.name)


def load_dataset(spec: str, seed: int = 0, n: int | None = None) -> Dataset:
    """Load a built-in dataset by name or a user file (.npz or .csv).

    Args:
        spec: `digits`, `sine`, `gestures`, or a path to a `.npz`/`.csv` file.
        seed: seed for the generated sets (`sine`, `gestures`); ignored by real data.
        n: number of samples for generated sets (defaults: sine 1000, gestures 1500).
    Raises:
        UsageError: unknown name or file type. DataError: the file is unreadable or malformed, or its
            data is unusable (see `validate`).
    """
    name = str(spec)
    if name == "digits":
        return _digits()
    if name == "sine":
        return make_sine(n or 1000, seed)
    if name == "gestures":
        return make_gestures(n or 1500, seed)
    path = Path(name)
    if path.suffix.lower() in (".npz", ".csv"):
        if not path.is_file():
            raise DataError(f"Dataset file {path} does not exist",
                            "Give an existing .npz or .csv file, or one of: " + ", ".join(BUILTIN))
        # User files are checked here, once, so every consumer (train, eval, demo) refuses NaN,
        # empty sets and mismatched lengths the same way.
        return validate(_load_npz(path) if path.suffix.lower() == ".npz" else _load_csv(path))
    raise UsageError(f"Unknown dataset '{name}'",
                     "Use one of " + ", ".join(BUILTIN) + ", or a path to a .npz or .csv file.")


def _digits() -> Dataset:
    # scikit-learn bundles this real dataset (1797 scanned 8x8 digits, pixels 0..16): no download.
    from sklearn.datasets import load_digits

    raw = load_digits()
    x = (raw.images.astype(np.float32) / 16.0)[..., None]
    return Dataset(x, raw.target.astype(np.int64), "classification",
                   [str(i) for i in range(10)], "digits")


def make_sine(n: int = 1000, seed: int = 0, noise: float = 0.1) -> Dataset:
    """The TinyML hello-world: y = sin(x) + noise, x uniform in [0, 2*pi), shape (n, 1)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 2 * np.pi, size=(n, 1)).astype(np.float32)
    y = (np.sin(x[:, 0]) + rng.normal(0.0, noise, size=n)).astype(np.float32)
    return Dataset(x, y, "regression", [], "sine")


def make_gestures(n: int = 1500, seed: int = 0, length: int = 64, rate_hz: float = 50.0) -> Dataset:
    """Synthetic 3-axis accelerometer windows (in g) of five classes: idle plus four gestures.

    Each window is `length` samples at `rate_hz` (default 64 at 50 Hz, 1.28 s), shape (length, 3).
    The device frame is randomly oriented (yaw/pitch/roll up to ~25 degrees) so gravity (1 g) is
    spread over the axes; the motion is drawn in the user frame and rotated the same way.

    - idle: only gravity, a slow drift and sensor noise.
    - wave: side-to-side oscillation along x, 1.5-3 Hz, 0.4-1.2 g.
    - punch: a sharp forward push then a brake along y (a Gaussian derivative), 1.5-3.5 g.
    - circle: x and z in quadrature (a circle in the vertical plane), 0.8-1.6 Hz, 0.3-0.9 g.
    - lift: up then down along z (a slow raised bump), 0.4-1.0 g.

    Per sample the amplitude, speed, onset time and orientation vary; every window gets white
    noise (sigma 0.02-0.06 g), a per-axis bias (+-0.03 g) and occasional spikes. Seeded: the
    same (n, seed) gives the same data. Classes are balanced (n // 5 each, the rest to idle).
    """
    rng = np.random.default_rng(seed)
    t = np.arange(length, dtype=np.float64) / rate_hz
    labels = np.arange(n) % len(GESTURES)
    rng.shuffle(labels)
    x = np.empty((n, length, 3), dtype=np.float32)
    for i, label in enumerate(labels):
        motion = _gesture_motion(GESTURES[label], t, rng)
        rot = _rotation(rng, max_deg=25.0)
        signal = (motion + np.array([0.0, 0.0, 1.0])) @ rot.T
        signal += rng.normal(0.0, rng.uniform(0.02, 0.06), size=signal.shape)
        signal += rng.uniform(-0.03, 0.03, size=3)
        if rng.random() < 0.1:
            signal[rng.integers(length), rng.integers(3)] += rng.choice([-1, 1]) * rng.uniform(0.3, 0.8)
        x[i] = signal
    return Dataset(x, labels.astype(np.int64), "classification", list(GESTURES), "gestures")


def _gesture_motion(kind: str, t: np.ndarray, rng) -> np.ndarray:
    """Linear acceleration (user frame, in g) of one gesture over times `t`."""
    out = np.zeros((len(t), 3))
    dur = t[-1]
    onset = rng.uniform(0.1, 0.35) * dur
    if kind == "idle":
        out += rng.normal(0.0, 0.01, size=3) * t[:, None] / dur  # slow drift of a resting hand
    elif kind == "wave":
        f, a = rng.uniform(1.5, 3.0), rng.uniform(0.4, 1.2)
        env = np.clip((t - onset) / 0.15, 0, 1)
        out[:, 0] = a * env * np.sin(2 * np.pi * f * (t - onset))
    elif kind == "punch":
        a, w = rng.uniform(1.5, 3.5), rng.uniform(0.05, 0.1)
        c = onset + rng.uniform(0.1, 0.3)
        out[:, 1] = -a * (t - c) / w * np.exp(0.5 - 0.5 * ((t - c) / w) ** 2)
    elif kind == "circle":
        f, a = rng.uniform(0.8, 1.6), rng.uniform(0.3, 0.9)
        phase = 2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)
        out[:, 0], out[:, 2] = a * np.cos(phase), a * np.sin(phase)
    elif kind == "lift":
        a, w = rng.uniform(0.4, 1.0), rng.uniform(0.15, 0.3)
        c = onset + rng.uniform(0.2, 0.4)
        out[:, 2] = a * (1 - ((t - c) / w) ** 2) * np.exp(-0.5 * ((t - c) / w) ** 2)
    return out


def _rotation(rng, max_deg: float) -> np.ndarray:
    """A random rotation matrix with each Euler angle within +-max_deg."""
    a, b, c = np.deg2rad(rng.uniform(-max_deg, max_deg, size=3))
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rx = np.array([[1, 0, 0], [0, np.cos(c), -np.sin(c)], [0, np.sin(c), np.cos(c)]])
    return rz @ ry @ rx


def _load_npz(path: Path) -> Dataset:
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in ("x", "y") if k not in z.files]
            if missing:
                raise DataError(f"{path} has arrays {sorted(z.files)} but no {', '.join(missing)}",
                                "Save the samples as `x` and the labels as `y`: np.savez(path, x=x, y=y).")
            x, y = z["x"], z["y"]
            names = [str(s) for s in z["class_names"]] if "class_names" in z.files else []
            task = str(z["task"]) if "task" in z.files else None
    except ValueError as exc:  # object arrays need pickle, which we refuse
        raise DataError(f"{path} holds object arrays that need pickle ({exc})",
                        "Save plain numeric arrays (no dtype=object); tinyflow never unpickles data.") from None
    except (OSError, EOFError) as exc:
        raise DataError(f"{path} is not a readable .npz file ({exc})",
                        "Write it with numpy.savez(path, x=x, y=y).") from None
    ds = _from_arrays(x, y, names, path.stem, str(path))
    if task is not None:
        if task not in TASKS:
            raise DataError(f"{path} has task '{task}'", "Use one of " + ", ".join(TASKS) + ".")
        ds.task = task
    return ds


def _load_csv(path: Path) -> Dataset:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not a readable CSV file ({exc})", "Give a UTF-8 text CSV.") from None
    if rows and not _is_number(rows[0][0]):
        rows = rows[1:]  # header row
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        bad = next(i for i, r in enumerate(rows) if len(r) != len(rows[0]))
        raise DataError(f"{path}: row {bad + 1} has {len(rows[bad])} fields but the first has {len(rows[0])}",
                        "Every row needs the label then the same number of features.")
    if rows and len(rows[0]) < 2:
        raise DataError(f"{path}: rows have {len(rows[0])} field, need a label and at least one feature",
                        "Put the label in the first column and the features after it.")
    try:
        table = np.array([[float(c) for c in r] for r in rows], dtype=np.float64).reshape(len(rows), -1)
    except ValueError as exc:
        raise DataError(f"{path}: a field is not a number ({exc})", "Only numeric fields after the header.") from None
    y = table[:, 0] if len(rows) else np.zeros(0)
    if len(y) and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
        y = y.astype(np.int64)
    return _from_arrays(table[:, 1:], y, [], path.stem, str(path))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _from_arrays(x, y, names, name, source) -> Dataset:
    x, y = np.asarray(x), np.asarray(y)
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise DataError(f"{source}: x has dtype {x.dtype}, not numbers", "Store numeric features.")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if np.issubdtype(y.dtype, np.integer) or y.dtype == bool:
        task, y = "classification", y.astype(np.int64)
    elif np.issubdtype(y.dtype, np.floating):
        task, y = "regression", y.astype(np.float32)
    else:
        raise DataError(f"{source}: y has dtype {y.dtype}, not numbers",
                        "Store integer class labels or float targets.")
    ds = Dataset(x.astype(np.float32), y, task, names, name)
    if task == "classification" and not names and len(y) and y.min() >= 0:
        ds.class_names = [str(i) for i in range(int(y.max()) + 1)]
    return ds


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
        raise DataError(f"Dataset '{ds.name}' has {len(x)} samples in x but {y.size if y.ndim == 0 else len(y)} labels in y",
                        "Give exactly one label per sample.")
    _check_finite(ds.name, "x", x)
    _check_finite(ds.name, "y", y)
    if input_shape is not None:
        want = tuple(int(d) for d in input_shape if d is not None)
        if tuple(x.shape[1:]) != want:
            raise DataError(f"Dataset '{ds.name}' has samples of shape {tuple(x.shape[1:])} but the model expects {want}",
                            "Reshape the data (or pick a model built for this input shape).")
    if ds.task in ("classification", "anomaly"):
        if not np.issubdtype(y.dtype, np.integer):
            raise DataError(f"Dataset '{ds.name}' has {y.dtype} labels for {ds.task}",
                            "Use integer class labels 0..N-1.")
        top = num_classes if num_classes is not None else (2 if ds.task == "anomaly" else None)
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or (top is not None and hi >= top):
            rng = f"[0, {top - 1}]" if top is not None else "non-negative"
            raise DataError(f"Dataset '{ds.name}' has labels from {lo} to {hi} but they must be in {rng}",
                            "Map the labels to 0..N-1, or build the model with more classes.")
    return ds


def _check_finite(name: str, what: str, arr: np.ndarray) -> None:
    if np.issubdtype(arr.dtype, np.floating):
        bad = ~np.isfinite(arr)
        if bad.any():
            first = int(np.argwhere(bad)[0][0])
            n_nan, n_inf = int(np.isnan(arr).sum()), int(np.isinf(arr).sum())
            raise DataError(f"Dataset '{name}' has {n_nan} NaN and {n_inf} inf values in {what} (first in sample {first})",
                            "Drop or impute those samples before training.")


def split(ds: Dataset, seed: int = 0, val: float = 0.15, test: float = 0.15) -> tuple[Dataset, Dataset, Dataset]:
    """Split into (train, val, test), deterministically; stratified by class for classification.

    Returns:
        Three Datasets named `<name>/train`, `/val`, `/test`. A class with too few samples may
        have none in val or test; with few samples val or test may be empty.
    """
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise UsageError(f"Split fractions val={val} test={test} are invalid", "Use 0 <= val, test and val + test < 1.")
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(ds.y == c) for c in np.unique(ds.y)] if ds.task == "classification" \
        else [np.arange(len(ds))]
    parts: list[list[np.ndarray]] = [[], [], []]
    for idx in groups:
        idx = rng.permutation(idx)
        n_test, n_val = int(round(len(idx) * test)), int(round(len(idx) * val))
        parts[2].append(idx[:n_test])
        parts[1].append(idx[n_test:n_test + n_val])
        parts[0].append(idx[n_test + n_val:])
    out = []
    for tag, chunks in zip(("train", "val", "test"), parts):
        index = np.sort(np.concatenate(chunks)).astype(np.int64)
        out.append(ds.subset(index, f"{ds.name}/{tag}"))
    return out[0], out[1], out[2]


def representative(ds: Dataset, n: int = 100, seed: int = 0) -> np.ndarray:
    """A deterministic calibration subset: up to `n` samples of `x` (float32) for int8 PTQ."""
    if len(ds) == 0:
        raise DataError(f"Dataset '{ds.name}' is empty: nothing to calibrate with", "Give at least one sample.")
    index = np.random.default_rng(seed).permutation(len(ds))[: max(1, int(n))]
    return np.asarray(ds.x[np.sort(index)], dtype=np.float32)
