"""User dataset files (.npz, .csv), read as untrusted input within size bounds.

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

`Limits` bounds what is read (file size, each array's declared size, values, line length) and is
checked before the data is, so a hostile file fails in a second with a DataError instead of
exhausting memory.
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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyflow.data.dataset import MAX_CLASSES, TASKS, Dataset, validate
from tinyflow.errors import DataError
from tinyflow.inputs import open_regular

SUFFIXES = (".npz", ".csv")


@dataclass(frozen=True)
class Limits:
    """What tinyflow reads from a user's dataset file at most (tests pass smaller ones)."""

    file_bytes: int = 512 << 20  # a .csv file on disk
    array_bytes: int = 512 << 20  # the arrays of a .npz together, as their headers declare them
    values: int = 64 << 20  # numbers in a CSV (8 B each while parsing)
    line_chars: int = 16 << 20  # one CSV line (a wide row of 100k features is ~1 MB)


def load_file(
    path: str | os.PathLike, limits: Limits | None = None, *, hint: str = "Give an existing .npz or .csv file."
) -> Dataset:
    """Read and validate a .npz or .csv dataset file.

    Args:
        hint: what to do when the file does not exist (the caller knows the other choices).
    Raises:
        DataError: the file is missing, not a regular file, unreadable, malformed or over
            `limits`, or its data is unusable (see `validate`).
    """
    path, limits = Path(path), limits or Limits()
    if not os.path.lexists(path):
        raise DataError(f"Dataset file {path} does not exist", hint)
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
            if first and not is_number(row[0]):
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


def is_number(text: str) -> bool:
    """A CSV field that reads as a number (a header row has none)."""
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
