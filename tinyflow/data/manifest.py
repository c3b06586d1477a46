"""The store's manifest.csv: one row per sample, parsed as untrusted text and written canonically.

Columns: path, label, sha256, sensor, sample_rate, device, captured_at, split, group. Every row
read is checked: a plain relative path to a .wav/.csv/.npy file (nothing outside the folder), a
SHA-256, a known split, a finite rate, short one-line texts.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass, fields

from tinyflow.errors import DataError, UsageError
from tinyflow.outputs import relative_parts

SPLITS = ("train", "val", "test")
MAX_ROWS = 1_000_000
MAX_TEXT = 256  # a label, sensor, device or group
HINT = "Fix or remove that row of manifest.csv (tinyflow data check DIR lists every problem)."
_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Entry:
    """One row of the manifest: a sample file and what is known about it."""

    path: str  # relative to the store, '/'-separated
    label: str
    sha256: str
    sensor: str = ""  # audio, imu, adc, ...
    sample_rate: float = 0.0  # Hz; 0 = not known
    device: str = ""
    captured_at: str = ""  # ISO 8601, UTC
    split: str = "train"
    group: str = ""  # samples of one group (speaker, session) always share a split

    @property
    def format(self) -> str:
        return self.path.rsplit(".", 1)[-1]


COLUMNS = tuple(f.name for f in fields(Entry))


def parse_manifest(raw: bytes, where: str) -> list[Entry]:
    """The rows of a manifest.csv (bytes read within a size bound), each one checked."""
    try:
        reader = csv.reader(io.StringIO(raw.decode("utf-8"), newline=""))
        header = next(reader, None)
        if header is None or tuple(header) != COLUMNS:
            raise DataError(f"{where} does not start with the header {','.join(COLUMNS)}", HINT)
        entries = []
        for row in reader:
            if not row:
                continue
            if len(entries) >= MAX_ROWS:
                raise DataError(f"{where} has more than {MAX_ROWS:,} rows", "Split the store into smaller ones.")
            if len(row) != len(COLUMNS):
                raise DataError(f"{where}: line {reader.line_num} has {len(row)} fields, not {len(COLUMNS)}", HINT)
            entry = Entry(*row[:4], _rate(row[4], where, reader.line_num), *row[5:])
            entries.append(check_entry(entry, f"{where}: line {reader.line_num}"))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{where} is not a readable CSV manifest ({str(exc)[:100]})", HINT) from None
    return entries


def manifest_text(entries: list[Entry]) -> str:
    """The canonical manifest: a header, then one row per entry sorted by path."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(COLUMNS)
    for e in sorted(entries, key=lambda e: e.path):
        row = asdict(e)
        row["sample_rate"] = f"{e.sample_rate:g}"
        out.writerow([row[c] for c in COLUMNS])
    return buf.getvalue()


def _rate(text: str, where: str, line: int) -> float:
    try:
        rate = float(text or 0)
    except ValueError:
        rate = -1.0
    if not 0 <= rate <= 10_000_000:  # also refuses nan and inf
        raise DataError(f"{where}: line {line} has sample rate {text[:20]!r}", "Give the rate in Hz (0 if unknown).")
    return rate


def check_entry(e: Entry, where: str) -> Entry:
    try:
        parts = relative_parts(e.path, where)
    except UsageError:
        raise DataError(f"{where} names the path {e.path[:80]!r}, which is outside the store", HINT) from None
    if parts[-1].rsplit(".", 1)[-1] not in ("wav", "csv", "npy") or "." not in parts[-1]:
        raise DataError(f"{where}: {e.path[:80]!r} is not a .wav, .csv or .npy file", HINT)
    if not _HASH.fullmatch(e.sha256):
        raise DataError(f"{where}: {e.sha256[:80]!r} is not a SHA-256 (64 lowercase hex digits)", HINT)
    if e.split not in SPLITS:
        raise DataError(f"{where}: unknown split {e.split[:20]!r}", f"Use one of {', '.join(SPLITS)}.")
    for name in ("label", "sensor", "device", "captured_at", "group"):
        text = getattr(e, name)
        if len(text) > MAX_TEXT or any(ord(c) < 32 for c in text) or (name == "label" and not text.strip()):
            raise DataError(f"{where}: the {name} is empty, too long or has control characters", HINT)
    return e
