"""The runner's dataset folders: read one, or make one labelled by the TFLM reference kernels.

A folder holds one binary file per input (the bytes the runner sends, see benchmarks.py) and
`y_labels.csv`, rows `file,classes,class,bytes_to_send,stride` (the runner's DataSet). AD files
are cut into windows of `bytes_to_send` every `stride` bytes; accuracy averages their scores.

Made folders (`make_dataset`) hold seeded inputs that the reference model itself labels, so the
reference kernels score Top-1 100 by construction, and the device must match them:
- KWS, IC, VWW: for every class, inputs the reference classifies as that class with a
  normalized score of at least CONFIDENCE (searched: a seeded pool, then a hill climb);
- AD: normal files are the reference autoencoder's own reconstructions of seeded inputs (points
  it reproduces), anomalous files seeded Gaussian noise with the same mean and spread.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyflow.errors import DataError, ModelError
from tinyflow.inputs import read_regular
from tinyflow.mlperf.benchmarks import Benchmark
from tinyflow.outputs import atomic_write, inside, make_dir

LABELS = "y_labels.csv"
MAX_FILE_BYTES = 64 << 20  # a dataset file larger than this is not an MLPerf Tiny input
MAX_TOTAL_BYTES = 1 << 30  # all files of one folder, read together
MAX_CLASSES = 1000
MAX_WINDOWS = 10_000  # per file (AD files hold a few hundred)
CONFIDENCE = 0.9
AD_WINDOWS = 2  # windows per AD file (the runner averages their scores)
POOL_SIZE = 1000  # seeded inputs the search starts from
MAX_FAILED_CLIMBS = 6  # per class, before giving up


@dataclass
class Entry:
    """One row of y_labels.csv and its file's bytes."""

    file: str
    classes: int
    label: int
    bytes_to_send: int
    stride: int
    data: bytes

    def windows(self) -> list[bytes]:
        """What the runner loads for this file: AD windows, else the whole file."""
        if self.bytes_to_send <= 0 or self.stride <= 0:
            return [self.data]
        out, start = [], 0
        while start + self.bytes_to_send <= len(self.data):
            out.append(self.data[start : start + self.bytes_to_send])
            start += self.stride
        return out

    def row(self) -> dict:
        """The row as the runner's results.json carries it (strings, as csv.DictReader gives them)."""
        return {
            "file": self.file,
            "classes": str(self.classes),
            "class": str(self.label),
            "bytes_to_send": str(self.bytes_to_send),
            "stride": str(self.stride),
        }


def read_dataset(folder: Path) -> list[Entry]:
    """The entries of a runner dataset folder (y_labels.csv and the files it names).

    Raises:
        DataError: no y_labels.csv, a malformed row, or a file outside the folder or missing.
    """
    folder = Path(folder).resolve()
    labels = folder / LABELS
    if not labels.is_file():
        raise DataError(f"{folder} has no {LABELS}", "Make one with `tinyflow mlperf dataset` or use the runner's.")
    text = read_regular(labels, "label file", MAX_FILE_BYTES, DataError).decode("utf-8", errors="replace")
    entries, total = [], 0
    try:
        for n, row in enumerate(csv.reader(text.splitlines()), 1):
            if not row or not row[0].strip():
                continue
            name, classes, label, size, stride = _parse_row(row, f"{labels} line {n}")
            path = (folder / name).resolve()
            if folder not in path.parents:
                raise DataError(
                    f"{labels} line {n} names {name[:80]!r}, outside {folder}", "List files of the folder only."
                )
            data = read_regular(path, "dataset file", MAX_FILE_BYTES, DataError)
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise DataError(f"{folder}'s files exceed {MAX_TOTAL_BYTES >> 20} MiB", "Use a smaller dataset.")
            entries.append(Entry(name, classes, label, size, stride, data))
    except csv.Error as exc:  # a field past csv's 128 KiB limit, a NUL
        raise DataError(f"{labels} is not a readable CSV file ({str(exc)[:100]})", "Fix it.") from None
    if not entries:
        raise DataError(f"{labels} lists no files", "Add one row per input file.")
    return entries


def _parse_row(row: list[str], where: str) -> tuple[str, int, int, int, int]:
    """(file, classes, class, bytes_to_send, stride) of one y_labels.csv row, each checked."""
    hint = "Fix it: file,classes,class,bytes_to_send,stride, e.g. tst_000.bin,12,3,0,0."
    try:
        name, classes, label = row[0].strip(), int(row[1]), int(row[2])
        size, stride = (int(row[3]), int(row[4])) if len(row) >= 5 else (0, 0)
    except (IndexError, ValueError):
        raise DataError(f"{where} is not file,classes,class,bytes_to_send,stride", hint) from None
    if "\x00" in name or not 1 <= classes <= MAX_CLASSES or not 0 <= label < classes:
        raise DataError(f"{where} has class {label} of {classes} (or a NUL in its file name)", hint)
    if not (0 <= size <= MAX_FILE_BYTES and 0 <= stride <= MAX_FILE_BYTES and (size == 0) == (stride == 0)):
        raise DataError(f"{where} has bytes_to_send {size} and stride {stride}", hint)
    return name, classes, label, size, stride


def check_inputs(entries: list[Entry], input_bytes: int, classes: int | None) -> None:
    """Refuse windows that are not exactly one model input, and labels the model cannot score.

    Args:
        input_bytes: the bytes the runner sends per input (the model's input elements x the
            benchmark's wire element size).
        classes: the model's number of classes (None: AD, labels 0/1).
    Raises:
        DataError: naming the first bad file.
    """
    for e in entries:
        # counted, not built: a 1-byte stride over a 64 MiB file would be 64 M windows
        size, count = len(e.data), 1
        if e.bytes_to_send > 0:
            size, count = e.bytes_to_send, max(0, (len(e.data) - e.bytes_to_send) // e.stride + 1)
        if not 1 <= count <= MAX_WINDOWS or size != input_bytes:
            raise DataError(
                f"{e.file} gives {count} window(s) of {size} bytes; the model takes {input_bytes} bytes",
                "Use the dataset made for this model and benchmark (tinyflow mlperf dataset).",
            )
        limit = 2 if classes is None else classes
        if (classes is not None and e.classes != classes) or e.label >= limit:
            raise DataError(
                f"{e.file} is class {e.label} of {e.classes}; the model has {limit} classes",
                "Use the dataset made for this model and benchmark.",
            )


def write_dataset(folder: Path, entries: list[Entry]) -> Path:
    """Write the entries' files and y_labels.csv into `folder` (created); returns the folder."""
    folder = make_dir(folder)
    for e in entries:
        atomic_write(inside(folder, e.file), e.data)
    rows = "".join(f"{e.file},{e.classes},{e.label},{e.bytes_to_send},{e.stride}\n" for e in entries)
    atomic_write(folder / LABELS, rows.encode())
    return folder


def make_dataset(model: bytes, bench: Benchmark, per_class: int = 2, seed: int = 0) -> list[Entry]:
    """Seeded inputs for `bench`, labelled by the TFLM reference kernels running `model`."""
    from tinyflow.runtimes import open_runtime

    rng = np.random.default_rng(seed)
    with open_runtime("tflm", model) as rt:
        spec = rt.model.tensors[rt.model.inputs[0]]
        _check_shape(rt.model, spec, bench)
        if bench.anomaly:
            return _ad_entries(rt, spec, per_class, rng)
        return _class_entries(rt, spec, bench, per_class, rng)


def _check_shape(m, spec, bench: Benchmark) -> None:
    """Refuse a model whose input or output the benchmark's generator cannot make data for."""
    shape = tuple(int(d) for d in spec.shape)
    out = m.tensors[m.outputs[0]]
    if bench.anomaly:
        ok = len(m.inputs) == 1 and int(np.prod(shape)) == int(np.prod(out.shape))
        need = "one input and an output of the same size (an autoencoder)"
    else:
        channels = 1 if bench.id == "kws01" else 3
        ok = len(shape) == 4 and shape[-1] == channels and len(out.shape) == 2 and out.shape[1] >= 2
        need = f"an int8 input of shape (1, rows, columns, {channels}) and class scores out"
    if not ok or np.dtype(spec.dtype) != np.int8:
        raise ModelError(
            f"Cannot make {bench.id} data for this model: it needs {need}, and has an input of shape {shape}",
            "Pass --dataset with the runner's files for this model instead.",
        )


def _scores(outputs) -> np.ndarray:
    """The runner's normalized scores of one int8 classifier output (dequantized, sum 1)."""
    y = outputs[0].astype(np.float64).ravel() + 128.0
    return y / max(y.sum(), 1e-12)


def _class_entries(rt, spec, bench: Benchmark, per_class: int, rng) -> list[Entry]:
    shape = tuple(int(d) for d in spec.shape[1:])
    pool = [_pool_input(rng, shape, bench) for _ in range(POOL_SIZE)]
    scores = np.array([_scores(o) for o in rt.run(pool)])
    entries = []
    for c in range(scores.shape[1]):
        # Climb from the pool's best inputs for class c, next best when a climb does not get there.
        starts = iter(np.argsort(scores[:, c])[::-1][: per_class + MAX_FAILED_CLIMBS])
        found = [x for x in (_climb(rt, pool[int(i)], c, rng) for i in starts) if x is not None][:per_class]
        if len(found) < per_class:
            raise DataError(
                f"Found {len(found)} of {per_class} inputs the reference classifies as class {c} "
                f"with a score >= {CONFIDENCE}",
                "Try another --seed, or fewer --per-class.",
            )
        for k, x in enumerate(found):
            wire = (x.astype(np.int16) + 128).astype(np.uint8) if bench.wire == "uint8" else x
            entries.append(Entry(f"c{c:02d}_{k}.bin", scores.shape[1], c, 0, 0, wire.tobytes()))
    return entries


def _pool_input(rng, shape, bench: Benchmark) -> np.ndarray:
    """A varied int8 input: feature columns with their own levels (KWS), or coarse blobs (images)."""
    if bench.id == "kws01":
        cols = rng.uniform(-128, 127, shape[1])
        cols[1:] = rng.uniform(60, 110) + rng.normal(0, rng.uniform(0, 30), shape[1] - 1)
        f = cols[None, :, None] + rng.normal(0, rng.uniform(0, 10), shape)
    else:
        h, w, ch = shape
        gh, gw = int(rng.integers(1, h // 2 + 1)), int(rng.integers(1, w // 2 + 1))
        coarse = rng.normal(0, 1, (gh, gw, ch))
        f = coarse[np.arange(h) * gh // h][:, np.arange(w) * gw // w]
        f = rng.uniform(-128, 127) + rng.uniform(0, 128) * f + rng.normal(0, rng.uniform(0, 30), shape)
    return np.clip(np.round(f), -128, 127).astype(np.int8)


def _climb(rt, x: np.ndarray, c: int, rng, steps: int = 150, batch: int = 16) -> np.ndarray | None:
    """Nudge `x` until the reference gives class `c` a score >= CONFIDENCE (None: not reached)."""
    best = _scores(rt.invoke(x))
    for _ in range(steps):
        if best[c] >= CONFIDENCE and int(best.argmax()) == c:
            return x
        cands = [_mutate(x, rng) for _ in range(batch)]
        outs = [_scores(o) for o in rt.run(cands)]
        k = int(np.argmax([s[c] for s in outs]))
        if outs[k][c] > best[c]:
            x, best = cands[k], outs[k]
    return x if best[c] >= CONFIDENCE and int(best.argmax()) == c else None


def _mutate(x: np.ndarray, rng) -> np.ndarray:
    """A neighbour of `x`: a few elements moved, or one slice along an axis (a feature column, an
    image row or channel) shifted by a constant."""
    y = x.astype(np.int16)
    if rng.random() < 0.5:
        flat = y.reshape(-1)
        idx = rng.integers(0, flat.size, max(1, int(rng.uniform(0.002, 0.03) * flat.size)))
        flat[idx] += rng.integers(-64, 65, idx.size).astype(np.int16)
    else:
        axis = int(rng.integers(0, y.ndim))
        index = [slice(None)] * y.ndim
        index[axis] = int(rng.integers(0, y.shape[axis]))
        y[tuple(index)] += np.int16(rng.integers(-32, 33))
    return np.clip(y, -128, 127).astype(np.int8)


def _ad_entries(rt, spec, per_class: int, rng) -> list[Entry]:
    from tinyflow.runtimes import dequantize

    n = int(np.prod(spec.shape))
    scale = float(spec.scale[0])
    out = rt.model.tensors[rt.model.outputs[0]]
    entries = []
    for k in range(per_class):
        windows = []
        for _ in range(AD_WINDOWS):
            x = rng.integers(-128, 128, spec.shape, dtype=np.int8)
            windows.append(dequantize(rt.invoke(x)[0], float(out.scale[0]), int(out.zero_point[0])).ravel())
        normal = np.concatenate(windows).astype("<f4")
        noise = rng.normal(normal.mean(), normal.std() + scale, normal.size).astype("<f4")
        for label, values in ((0, normal), (1, noise)):
            name = f"{'normal' if label == 0 else 'anomaly'}_{k}.bin"
            entries.append(Entry(name, 2, label, 4 * n, 4 * n, values.tobytes()))
    return entries
