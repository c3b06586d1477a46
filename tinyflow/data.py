"""Datasets without TensorFlow: built-in sets, user .npz/CSV files, validation, splits, calibration.

Public API (kept stable; evaluation and the demo use it):

- `Dataset(x, y, task, class_names, name)`: `x` float32 with the sample axis first, `y` int64
  labels (classification), float32 targets (regression) or int64 0/1 flags (anomaly: 1 = anomalous).
- `load_dataset(spec, seed=0)`: `digits`, `sine`, `gestures`, a `.npz` file or a `.csv` file.
- `validate(ds, input_shape=None, num_classes=None)`: raise DataError for unusable data.
- `split(ds, seed=0, val=0.15, test=0.15)`: deterministic (stratified for classification).
- `representative(ds, n=100, seed=0)`: a calibration subset of `x` for int8 quantization.

File formats:

- `.npz`: arrays `x` (samples first) and `y` (one label or target per sample). Read member by
  member without pickle: object arrays are refused, user data is never unpickled. Integer `y` means
  classification, float `y` regression; an optional `class_names` string array names the classes
  and an optional `task` string ("anomaly": y holds 0 = normal, 1 = anomalous) overrides the guess.
  A 2-D `y`: shape (N, 1) is squeezed; rows that are exactly one-hot (0/1, one 1 per row, any
  dtype) become class labels by argmax; other float (N, k) arrays are k regression targets per
  sample; other integer 2-D arrays are refused (no guessing which column is the label).
- `.csv`: one sample per row, the label in the first column and the features after it, comma
  separated. An optional header row (detected when its first field is not a number) names the
  columns. Integral labels (|label| <= 2**31) mean classification; others mean regression.

User files are untrusted: `Limits` bounds what is read (file size, each array's declared size,
values, line length) and is checked before the data is, so a hostile file fails in a second with
a DataError instead of exhausting memory.
"""

from __future__ import annotations

import csv
import io
import math
import os
import sys
import zipfile
import zlib
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyflow.errors import DataError, UsageError
from tinyflow.inputs import open_regular

TASKS = ("classification", "regression", "anomaly")
BUILTIN = ("digits", "sine", "gestures")
GESTURES = ("idle", "wave", "punch", "circle", "lift")
MAX_CLASSES = 65_536  # a larger class id is a corrupt label, not a class (and would size tables)


@dataclass(frozen=True)
class Limits:
    """What tinyflow reads from a user's dataset file at most (tests pass smaller ones)."""

    file_bytes: int = 512 << 20  # a .csv file on disk
    array_bytes: int = 512 << 20  # the arrays of a .npz together, as their headers declare them
    values: int = 64 << 20  # numbers in a CSV (8 B each while parsing)
    line_chars: int = 16 << 20  # one CSV line (a wide row of 100k features is ~1 MB)


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
        return Dataset(self.x[index], self.y[index], self.task, list(self.class_names), name or self.name)


def load_dataset(spec: str, seed: int = 0, n: int | None = None, limits: Limits | None = None) -> Dataset:
    """Load a built-in dataset by name or a user file (.npz or .csv).

    Args:
        spec: `digits`, `sine`, `gestures`, or a path to a `.npz`/`.csv` file.
        seed: seed for the generated sets (`sine`, `gestures`); ignored by real data.
        n: number of samples for generated sets (defaults: sine 1000, gestures 1500).
        limits: bounds on what is read from a file (default `Limits()`).
    Raises:
        UsageError: unknown name or file type, a negative seed. DataError: the file is unreadable,
            malformed or over `limits`, or its data is unusable (see `validate`).
    """
    check_seed(seed)
    limits = limits or Limits()
    name = str(spec)
    if name == "digits":
        return _digits()
    if name == "sine":
        return make_sine(n or 1000, seed)
    if name == "gestures":
        return make_gestures(n or 1500, seed)
    path = Path(name)
    if path.suffix.lower() in (".npz", ".csv"):
        if not os.path.lexists(path):
            raise DataError(
                f"Dataset file {path} does not exist",
                "Give an existing .npz or .csv file, or one of: " + ", ".join(BUILTIN),
            )
        csv_file = path.suffix.lower() == ".csv"
        # Regular files only (a FIFO would block, /dev/zero never ends); a .npz is bounded by the
        # sizes its arrays declare (_read_npy), a .csv by its size on disk.
        fh, _ = open_regular(
            path,
            "Dataset file",
            limits.file_bytes if csv_file else sys.maxsize,
            DataError,
            too_big="Use a smaller file, or save the data as .npz (binary and compact).",
        )
        with fh:
            # User files are checked here, once, so every consumer (train, eval, demo) refuses NaN,
            # empty sets and mismatched lengths the same way.
            return validate(_load_csv(fh, path, limits) if csv_file else _load_npz(fh, path, limits))
    raise UsageError(
        f"Unknown dataset '{name}'", "Use one of " + ", ".join(BUILTIN) + ", or a path to a .npz or .csv file."
    )


def _digits() -> Dataset:
    # scikit-learn bundles this real dataset (1797 scanned 8x8 digits, pixels 0..16): no download.
    from sklearn.datasets import load_digits

    raw = load_digits()
    x = (raw.images.astype(np.float32) / 16.0)[..., None]
    return Dataset(x, raw.target.astype(np.int64), "classification", [str(i) for i in range(10)], "digits")


def make_sine(n: int = 1000, seed: int = 0, noise: float = 0.1) -> Dataset:
    """The TinyML hello-world: y = sin(x) + noise, x uniform in [0, 2*pi), shape (n, 1)."""
    rng = np.random.default_rng(check_seed(seed))
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
    rng = np.random.default_rng(check_seed(seed))
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


_NPZ_HINT = "Write it with numpy.savez(path, x=x, y=y) (plain numeric arrays)."
# What a damaged or hostile zip can raise while it is read: each becomes one DataError.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, RuntimeError, NotImplementedError)


def _load_npz(fh, path: Path, limits: Limits) -> Dataset:
    # Read member by member (not np.load): np.load names any non-zip file "pickled data" and
    # allocates whatever shape a header declares before reading a byte of it.
    try:
        with zipfile.ZipFile(fh) as zf:
            members = {(n[:-4] if n.endswith(".npy") else n): n for n in zf.namelist()}
            missing = [k for k in ("x", "y") if k not in members]
            if missing:
                raise DataError(
                    f"{path} has arrays {sorted(members)} but no {', '.join(missing)}",
                    "Save the samples as `x` and the labels as `y`: np.savez(path, x=x, y=y).",
                )
            arrays, budget = {}, limits.array_bytes
            for key in ("x", "y", "class_names", "task"):
                if key in members:
                    arrays[key] = _read_npy(zf, members[key], key, path, budget, limits.array_bytes)
                    budget -= arrays[key].nbytes
    except _ZIP_ERRORS as exc:
        raise DataError(f"{path} is not a valid .npz file ({_reason(exc)})", _NPZ_HINT) from None
    names = _class_names(arrays.get("class_names"), path)
    task = str(arrays["task"]) if "task" in arrays else None
    ds = _from_arrays(arrays["x"], arrays["y"], names, path.stem, str(path))
    if task is not None:
        if task not in TASKS:
            raise DataError(f"{path} has task {task[:40]!r}", "Use one of " + ", ".join(TASKS) + ".")
        ds.task = task
    return ds


def _read_npy(zf: zipfile.ZipFile, member: str, key: str, path: Path, budget: int, limit: int) -> np.ndarray:
    """One array of a .npz, its declared size checked against `budget` before it is allocated."""
    from numpy.lib import format as npy

    try:
        with zf.open(member) as fh:
            if fh.read(6) != b"\x93NUMPY":
                raise DataError(f"{path}: array {key} is not a .npy array", _NPZ_HINT)
            major = fh.read(2)[:1]
            # versions 2 and 3 differ only in the header's text encoding (3 allows UTF-8 field names)
            read_header = npy.read_array_header_1_0 if major == b"\x01" else npy.read_array_header_2_0
            shape, _, dtype = read_header(fh)
        if dtype.hasobject:
            raise DataError(
                f"{path}: array {key} holds Python objects (dtype=object), which only pickle can read",
                "Save plain numeric arrays; tinyflow never unpickles data.",
            )
        nbytes = math.prod(shape) * dtype.itemsize
        if any(d < 0 for d in shape) or nbytes > budget:
            raise DataError(
                f"{path}: array {key} declares shape {tuple(shape)} of {dtype} = {nbytes:,} B, more than "
                f"the {limit:,} B tinyflow reads from a dataset file",
                "Use a smaller dataset, or split it into several files.",
            )
        with zf.open(member) as fh:
            return npy.read_array(fh, allow_pickle=False)
    except _ZIP_ERRORS as exc:
        raise DataError(f"{path} is not a valid .npz file (array {key}: {_reason(exc)})", _NPZ_HINT) from None


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _class_names(arr, path: Path) -> list[str]:
    if arr is None:
        return []
    names = [str(s) for s in arr] if arr.ndim == 1 and len(arr) <= MAX_CLASSES else None
    if names is None or any(len(n) > 256 for n in names):
        raise DataError(
            f"{path}: class_names has shape {arr.shape}, not a list of at most {MAX_CLASSES:,} names "
            "of at most 256 characters",
            "Save class_names as a 1-D string array, one name per class.",
        )
    return names


def _load_csv(raw, path: Path, limits: Limits) -> Dataset:
    try:
        with io.TextIOWrapper(raw, encoding="utf-8", newline="") as fh:
            values, rows = _parse_csv(fh, path, limits)
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not a readable CSV file ({_reason(exc)})", "Give a UTF-8 text CSV.") from None
    # array('d') holds 8 B per value; np.frombuffer shares it (no copy)
    table = np.frombuffer(values, dtype=np.float64).reshape(rows, -1) if rows else np.zeros((0, 2))
    y = table[:, 0]
    if len(y) and np.all(np.isfinite(y)) and np.all(y == np.round(y)) and np.abs(y).max() <= 2**31:
        y = y.astype(np.int64)  # integral labels: classes (larger ones are regression targets, not ids)
    return _from_arrays(table[:, 1:], y, [], path.stem, str(path))


def _parse_csv(fh, path: Path, limits: Limits) -> tuple[array, int]:
    """Every number of the file, row after row, within `limits`; returns (values, rows)."""
    values, rows, width, first = array("d"), 0, 0, True
    reader = csv.reader(_bounded_lines(fh, path, limits.line_chars))
    try:
        for row in reader:
            if not row or not any(c.strip() for c in row):
                continue
            if first and not _is_number(row[0]):
                first = False
                continue  # header row
            first = False
            if not width:
                width = len(row)
                if width < 2:
                    raise DataError(
                        f"{path}: rows have {width} field, need a label and at least one feature",
                        "Put the label in the first column and the features after it.",
                    )
            if len(row) != width:
                raise DataError(
                    f"{path}: row {rows + 1} has {len(row)} fields but the first has {width} (line {reader.line_num})",
                    "Every row needs the label then the same number of features.",
                )
            if len(values) + width > limits.values:
                raise DataError(
                    f"{path} has more than {limits.values:,} values",
                    "Use a smaller dataset, or split it into several files.",
                )
            try:
                values.extend(float(c) for c in row)
            except ValueError as exc:
                raise DataError(
                    f"{path}: line {reader.line_num}: a field is not a number ({_reason(exc)})",
                    "Only numeric fields after the header.",
                ) from None
            rows += 1
    except csv.Error as exc:
        raise DataError(
            f"{path}: line {reader.line_num}: {exc}", "Numbers need no quotes; check the line for an unclosed quote."
        ) from None
    return values, rows


def _bounded_lines(fh, path: Path, limit: int):
    """The file's lines, refusing one longer than `limit` characters before reading the rest of it."""
    number = 0
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit:
            raise DataError(
                f"{path}: line {number} is longer than {limit:,} characters",
                "One sample per line: check the file is a CSV (and not one huge field).",
            )
        yield line


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _from_arrays(x, y, names, name, source) -> Dataset:
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype.kind not in "biuf":  # bool, integers, floats: complex would silently lose its imaginary part
        raise DataError(f"{source}: x has dtype {x.dtype}, not real numbers", "Store numeric features.")
    if x.ndim == 0:
        raise DataError(
            f"{source}: x has shape () (a single number)",
            "Store the samples along the first axis of x, shape (N, ...).",
        )
    y, task = _labels(y, source)
    ds = Dataset(_float32(x, "x", source), y, task, names, name)
    if task == "classification" and not names and len(y) and 0 <= y.min() and y.max() < MAX_CLASSES:
        ds.class_names = [str(i) for i in range(int(y.max()) + 1)]
    return ds


def _labels(y: np.ndarray, source: str) -> tuple[np.ndarray, str]:
    """One label (or k regression targets) per sample, and the task they mean."""
    if y.dtype.kind not in "biuf":
        raise DataError(f"{source}: y has dtype {y.dtype}, not numbers", "Store integer class labels or float targets.")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2 and y.shape[1] > 1 and np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all():
        return y.argmax(axis=1).astype(np.int64), "classification"  # exactly one-hot rows
    elif y.ndim == 2 and y.dtype.kind == "f":
        return _float32(y, "y", source), "regression"  # k targets per sample
    if y.ndim != 1:
        why = {0: " (a single number)", 2: " and is not one-hot (exactly one 1 per row)"}.get(y.ndim, "")
        raise DataError(
            f"{source}: y has shape {y.shape}{why}",
            "Give one label per sample, shape (N,), or one-hot rows, shape (N, classes).",
        )
    if y.dtype.kind in "biu":
        return y.astype(np.int64), "classification"
    return _float32(y, "y", source), "regression"


def _float32(arr: np.ndarray, what: str, source: str) -> np.ndarray:
    """`arr` as float32, refusing finite values that float32 cannot hold (they would turn into inf)."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = arr.astype(np.float32)
    if arr.dtype.kind == "f" and np.count_nonzero(np.isinf(out)) > np.count_nonzero(np.isinf(arr)):
        big = float(np.nanmax(np.abs(arr[np.isfinite(arr)])))
        raise DataError(
            f"{source}: {what} holds values up to {big:.3g}, beyond float32's range (3.4e38)",
            "Scale the data to a sensible range first.",
        )
    return out


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


def split(ds: Dataset, seed: int = 0, val: float = 0.15, test: float = 0.15) -> tuple[Dataset, Dataset, Dataset]:
    """Split into (train, val, test), deterministically; stratified by class for classification.

    Returns:
        Three Datasets named `<name>/train`, `/val`, `/test`. A class with too few samples may
        have none in val or test; with few samples val or test may be empty.
    """
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise UsageError(f"Split fractions val={val} test={test} are invalid", "Use 0 <= val, test and val + test < 1.")
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
