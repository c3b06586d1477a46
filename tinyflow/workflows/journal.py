"""The evaluation journal: one fsync'd line per finished sample, so `--resume` loses nothing.

Format (JSON lines, append-only):

    {"tinyflow_journal": 1, "config": {...}, "fingerprint": "<sha256 of config>"}
    {"i": 0, "out": ["<base64 of output 0 bytes>", ...], "ticks": 123, "us": 4.5, "wall": 0.01, "c": [0, 0, 0]}
    ...

`i` is the sample index in the dataset, `out` the raw output tensors as the device sent them,
`ticks`/`us` the device-measured latency, `wall` the host seconds spent on that sample, `c` the
link counters (retries, resyncs, resets) accrued since the previous line. A line is written and
fsync'd only after its sample has been received and checked, so an interruption at any point
leaves a journal whose lines are all complete samples (a torn last line is dropped on reading).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyflow.errors import UsageError
from tinyflow.outputs import make_dir, writing

VERSION = 1
COUNTERS = ("retries", "resyncs", "resets")


@dataclass
class Entry:
    """One finished sample."""

    index: int
    outputs: list[bytes]
    ticks: int
    microseconds: float
    wall: float = 0.0
    counters: tuple[int, int, int] = (0, 0, 0)

    def to_line(self) -> str:
        return json.dumps({"i": self.index, "out": [base64.b64encode(o).decode() for o in self.outputs],
                           "ticks": int(self.ticks), "us": float(self.microseconds), "wall": round(self.wall, 6),
                           "c": [int(c) for c in self.counters]}, separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: dict) -> "Entry":
        return cls(index=int(d["i"]), outputs=[base64.b64decode(o) for o in d["out"]], ticks=int(d["ticks"]),
                   microseconds=float(d["us"]), wall=float(d.get("wall", 0.0)), counters=tuple(d.get("c", (0, 0, 0))))


def fingerprint(config: dict) -> str:
    """A stable hash of what must not change between a run and its resumption."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


@dataclass
class Journal:
    """An open journal: the entries already recorded, and an append handle for new ones."""

    path: Path
    config: dict
    entries: dict[int, Entry] = field(default_factory=dict)
    duplicates: int = 0          # lines that repeated an index already recorded (should stay 0)
    _fh: object = None

    @classmethod
    def open(cls, path: Path, config: dict, resume: bool) -> "Journal":
        """Start a new journal, or (resume=True) reopen one made with the same config.

        Raises:
            UsageError: resuming a journal made with a different model/dataset/target, or one
                that is not a tinyflow journal.
        """
        path = Path(path)
        journal = cls(path=path, config=config)
        if resume and path.exists() and path.stat().st_size:
            journal._load()
        else:
            if resume:
                print(f"notice: no journal in {path.parent} to resume; starting from the first sample.",
                      file=sys.stderr)
            make_dir(path.parent)
            header = {"tinyflow_journal": VERSION, "config": config, "fingerprint": fingerprint(config)}
            with writing(path):
                _write_synced(path, json.dumps(header, sort_keys=True) + "\n", mode="w")
        with writing(path):
            journal._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())
        return journal

    def _load(self) -> None:
        lines = self.path.read_text(encoding="utf-8").split("\n")
        try:
            header = json.loads(lines[0])
            assert header.get("tinyflow_journal") == VERSION
        except (ValueError, AssertionError, AttributeError):
            raise UsageError(f"{self.path} is not a tinyflow evaluation journal (first line: {lines[0][:60]!r})",
                             "Remove it, or pass another --report directory.") from None
        if header.get("fingerprint") != fingerprint(self.config):
            diff = _differences(header.get("config", {}), self.config)
            raise UsageError(f"Cannot resume: the journal in {self.path.parent} was made with a different "
                             f"configuration ({diff})",
                             "Run with the same model, dataset and target, or drop --resume to start over.")
        good = len(lines[0]) + 1
        for line in lines[1:]:
            try:
                entry = Entry.from_dict(json.loads(line))
            except (ValueError, KeyError, TypeError):
                break  # a torn last line from an interruption: everything after it is dropped
            good += len(line) + 1
            if entry.index in self.entries:
                self.duplicates += 1
                continue
            self.entries[entry.index] = entry
        if good < self.path.stat().st_size:
            with open(self.path, "r+b") as fh:  # cut the torn tail so new lines start clean
                fh.truncate(good)
                os.fsync(fh.fileno())

    def record(self, entry: Entry) -> None:
        """Append one finished sample and fsync it before returning."""
        if entry.index in self.entries:
            self.duplicates += 1
            return
        self.entries[entry.index] = entry
        self._fh.write(entry.to_line() + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _write_synced(path: Path, text: str, mode: str) -> None:
    with open(path, mode, encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    try:  # a new file's directory entry must reach the disk too
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:  # some file systems (and Windows) cannot fsync a directory
        pass


def _differences(old: dict, new: dict) -> str:
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return "; ".join(f"{k}: journal {_short(old.get(k))}, now {_short(new.get(k))}" for k in keys) or "unknown"


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 24 else text[:21] + "..."


def outputs_to_arrays(outputs: list[bytes], specs) -> list[np.ndarray]:
    """Raw output bytes back to arrays with each output spec's dtype and shape."""
    return [np.frombuffer(b, dtype=s.dtype).reshape(s.shape) for b, s in zip(outputs, specs)]
