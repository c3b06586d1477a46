"""The monitor statistics as one value: what the device's MONITOR reply holds, what the host
reference computes from a dataset, and the `<model>.monitor.json` file that carries the reference.

A `Profile` is counts, sums and 16-bin histograms only (firmware/src/monitor.c computes the same
on the device): per feature column (the last axis of the model's input, at most 64) the element
count, sum, sum of squares and a histogram of the quantized value (bin = the top 4 bits of the
value offset to unsigned); a histogram of the top-1 confidence of output 0 (bin = confidence x
16); top-1 class counts; input elements at the dtype's limits (saturation).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyflow.errors import DataError
from tinyflow.inputs import read_regular
from tinyflow.outputs import atomic_write
from tinyflow.tflite.dtypes import LINK_TYPES

BINS = 16
FORMAT = "tinyflow-monitor-profile"
MAX_PROFILE_BYTES = 8 << 20  # a profile of 4096 columns is ~1 MiB of JSON
MAX_COLUMNS = MAX_CLASSES = 4096
# The wire's dtype codes (.tflite TensorType numbers, the one table in tinyflow/tflite/dtypes.py)
# and the ones the device keeps statistics of.
DTYPE_CODES = {t.numpy: t.code for t in LINK_TYPES}
DTYPE_NAMES = {t.code: t.numpy for t in LINK_TYPES}
FEATURE_DTYPES = ("int8", "uint8", "int16")


@dataclass
class Profile:
    """Monitor statistics (a reference profile or a device reading)."""

    input_dtype: str
    output_dtype: str
    feature_dim: int
    windows: int
    elements: int
    saturated: int
    confidence_hist: np.ndarray  # (16,) int64
    class_counts: np.ndarray  # (classes,) int64
    class_other: int = 0
    count: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (columns,)
    sum: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    sumsq: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))  # beyond int64 for int16
    hist: np.ndarray = field(default_factory=lambda: np.zeros((0, BINS), np.int64))  # (columns, 16)
    class_names: list[str] = field(default_factory=list)
    model_sha256: str = ""
    source: str = ""
    epoch: int = 0
    ticks: int = 0

    @property
    def columns(self) -> int:
        return len(self.count)

    def mean(self) -> np.ndarray:
        return self.sum / np.maximum(self.count, 1)

    def std(self) -> np.ndarray:
        n = np.maximum(self.count, 1)
        return np.sqrt(np.maximum(self.sumsq / n - self.mean() ** 2, 0.0))

    def saturation(self) -> float:
        """Share of the observed input elements at the dtype's minimum or maximum."""
        return self.saturated / self.elements if self.elements else 0.0

    def low_confidence(self) -> float:
        """Share of the inferences whose top-1 confidence was below 0.5 (bins 0-7)."""
        total = int(self.confidence_hist.sum())
        return float(self.confidence_hist[: BINS // 2].sum()) / total if total else 0.0

    def mean_confidence(self) -> float:
        """Mean top-1 confidence from the histogram (bin centres)."""
        total = int(self.confidence_hist.sum())
        centres = (np.arange(BINS) + 0.5) / BINS
        return float((self.confidence_hist * centres).sum()) / total if total else 0.0

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "version": 1,
            "model_sha256": self.model_sha256,
            "source": self.source,
            "input_dtype": self.input_dtype,
            "output_dtype": self.output_dtype,
            "feature_dim": self.feature_dim,
            "windows": self.windows,
            "elements": self.elements,
            "saturated": self.saturated,
            "confidence_hist": [int(v) for v in self.confidence_hist],
            "class_counts": [int(v) for v in self.class_counts],
            "class_other": self.class_other,
            "class_names": list(self.class_names),
            "columns": {
                "count": [int(v) for v in self.count],
                "sum": [int(v) for v in self.sum],
                "sumsq": [int(v) for v in self.sumsq],
                "hist": [[int(v) for v in row] for row in self.hist],
            },
        }


def from_device(s) -> Profile:
    """A Profile from a decoded MONITOR reply (tinyflow.protocol.messages.MonitorStats)."""
    return Profile(
        input_dtype=DTYPE_NAMES.get(s.input_dtype, "unknown"),
        output_dtype=DTYPE_NAMES.get(s.output_dtype, "unknown"),
        feature_dim=s.feature_dim,
        windows=s.windows,
        elements=s.elements,
        saturated=s.saturated,
        confidence_hist=np.asarray(s.confidence_hist, np.int64),
        class_counts=np.asarray(s.class_counts, np.int64),
        class_other=s.class_other,
        count=np.asarray(s.column_count, np.int64),
        sum=np.asarray(s.column_sum, np.int64),
        sumsq=np.asarray(s.column_sumsq, np.float64),
        hist=np.asarray(s.column_hist, np.int64).reshape(-1, BINS),
        epoch=s.epoch,
        ticks=s.ticks,
    )


def save_profile(profile: Profile, path: str | Path) -> None:
    atomic_write(Path(path), json.dumps(profile.to_dict(), indent=1).encode())


def load_profile(path: str | Path) -> Profile:
    """Read a `<model>.monitor.json` (untrusted: size ceiling, every field checked).

    Raises:
        DataError: not a profile, or a field of the wrong type, size or range.
    """
    data = read_regular(path, "Monitor profile", MAX_PROFILE_BYTES, DataError)
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:  # RecursionError: arrays nested thousands deep
        raise DataError(f"Monitor profile {path} is not JSON ({str(exc)[:120]})", _HINT) from None
    return profile_from_dict(doc, str(path))


_HINT = "Write it again with `tinyflow quantize` or tinyflow.monitor.reference.write_reference()."


def _ints(value, what: str, where: str, n: int | None = None, lo: int = 0) -> np.ndarray:
    if not isinstance(value, list) or (n is not None and len(value) != n) or len(value) > MAX_COLUMNS * BINS:
        raise DataError(
            f"Monitor profile {where}: {what} is not a list of {n if n is not None else 'some'} integers", _HINT
        )
    # int64 columns hold at most 2**63 - 1 (numpy raises OverflowError past it); sumsq is float64
    limit = 2**80 if what == "sumsq" else 2**63
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= lo and abs(v) < limit for v in value):
        raise DataError(f"Monitor profile {where}: {what} holds a value that is not an integer >= {lo}", _HINT)
    return np.asarray(value, np.float64 if what == "sumsq" else np.int64)


def _int(doc: dict, key: str, where: str) -> int:
    v = doc.get(key)
    if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v >= 2**64:
        raise DataError(f"Monitor profile {where}: '{key}' is not a non-negative integer", _HINT)
    return v


def profile_from_dict(doc, where: str = "(data)") -> Profile:
    """Check a decoded profile document field by field and build the Profile."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != 1:
        raise DataError(f"Monitor profile {where} is not a {FORMAT} version 1 document", _HINT)
    dtypes = [doc.get("input_dtype"), doc.get("output_dtype")]
    if any(d not in DTYPE_CODES for d in dtypes):
        raise DataError(f"Monitor profile {where}: unknown dtype in {dtypes}", _HINT)
    cols = doc.get("columns")
    if not isinstance(cols, dict):
        raise DataError(f"Monitor profile {where}: 'columns' is not an object", _HINT)
    count = _ints(cols.get("count"), "count", where)
    if len(count) > MAX_COLUMNS:
        raise DataError(f"Monitor profile {where}: {len(count)} columns (at most {MAX_COLUMNS})", _HINT)
    hist = cols.get("hist")
    if not isinstance(hist, list) or len(hist) != len(count):
        raise DataError(f"Monitor profile {where}: 'hist' needs one row per column", _HINT)
    classes = _ints(doc.get("class_counts"), "class_counts", where)
    names = doc.get("class_names", [])
    if len(classes) > MAX_CLASSES or not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise DataError(f"Monitor profile {where}: bad class counts or names", _HINT)
    return Profile(
        input_dtype=dtypes[0],
        output_dtype=dtypes[1],
        feature_dim=_int(doc, "feature_dim", where),
        windows=_int(doc, "windows", where),
        elements=_int(doc, "elements", where),
        saturated=_int(doc, "saturated", where),
        confidence_hist=_ints(doc.get("confidence_hist"), "confidence_hist", where, BINS),
        class_counts=classes,
        class_other=_int(doc, "class_other", where),
        count=count,
        sum=_ints(cols.get("sum"), "sum", where, len(count), lo=-(2**80)),
        sumsq=_ints(cols.get("sumsq"), "sumsq", where, len(count)),
        hist=np.asarray([_ints(row, "hist", where, BINS) for row in hist], np.int64).reshape(-1, BINS),
        class_names=[n[:200] for n in names[:MAX_CLASSES]],
        model_sha256=str(doc.get("model_sha256", ""))[:64],
        source=str(doc.get("source", ""))[:500],
    )
