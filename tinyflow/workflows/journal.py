"""The evaluation journal: one checksummed, fsync'd line per finished sample, so `--resume` loses nothing.

Format (JSON lines, version 2):

    {"tinyflow_journal": 2, "config": {...}, "fingerprint": "<sha256 of config>"}
    {"i": 0, "out": ["<base64 of output 0>", ...], "ticks": 123, "us": 4.5, "wall": 0.01, "c": [0, 0, 0], "crc": 123}

`i` is the sample index in the dataset, `out` the raw output tensors as the device sent them,
`ticks`/`us` the device-measured latency, `wall` the host seconds spent on that sample, `c` the
link counters (retries, resyncs, resets) accrued since the previous line. `crc` is the CRC-32 of
the header's fingerprint followed by the record's canonical JSON (sorted keys, no spaces, without
`crc`): it catches a flipped byte, and binds the record to its run's model, data, target and
settings, so a line pasted from another run's journal is damage too.

A line is written and fsync'd only after its sample has been received and checked. On resume
every line that parses, checks and fits the run (index in range, output sizes) is kept; any
other line is dropped, counted (`damaged`) and its sample measured again. A damaged journal is
replaced whole by a new file renamed over it (file and folder fsync'd), never edited in place.
`lock_folder` keeps a second process from writing the same journal.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyflow import events
from tinyflow.errors import UsageError
from tinyflow.outputs import make_dir, writing

VERSION = 2
COUNTERS = ("retries", "resyncs", "resets")
LOCK_NAME = ".tinyflow-eval.lock"
_KEYS = frozenset(("i", "out", "ticks", "us", "wall", "c", "crc"))
_HEADER_BYTES = 1 << 20  # a header holds the config: a few hundred bytes
_BIG = 1 << 63  # ticks and counters come from 32-bit device fields


@dataclass
class Entry:
    """One finished sample."""

    index: int
    outputs: list[bytes]
    ticks: int
    microseconds: float
    wall: float = 0.0
    counters: tuple[int, int, int] = (0, 0, 0)

    def to_record(self) -> dict:
        return {
            "i": int(self.index),
            "out": [base64.b64encode(o).decode() for o in self.outputs],
            "ticks": int(self.ticks),
            "us": float(self.microseconds),
            "wall": round(float(self.wall), 6),
            "c": [int(c) for c in self.counters],
        }

    def to_line(self, fingerprint: str) -> str:
        """The journal line of this entry in the run named by `fingerprint`."""
        record = self.to_record()
        record["crc"] = _crc(record, fingerprint)
        return json.dumps(record, separators=(",", ":"), allow_nan=False)


def fingerprint(config: dict) -> str:
    """A stable hash of what must not change between a run and its resumption."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def _crc(record: dict, fp: str) -> int:
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return zlib.crc32((fp + canonical).encode())


@dataclass
class Journal:
    """An open journal: the entries already recorded, and an append handle for new ones.

    `config` must hold `samples` (the run's sample count) and `output_bytes` (each output's size):
    records outside them are damage.
    """

    path: Path
    config: dict
    entries: dict[int, Entry] = field(default_factory=dict)
    damaged: int = 0  # lines dropped on resume (their samples are measured again)
    duplicates: int = 0  # record() calls that repeated a recorded index (should stay 0)
    _fh: object = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.config)

    @classmethod
    def open(cls, path: Path, config: dict, resume: bool) -> "Journal":
        """Start a new journal, or (resume=True) reopen one made with the same config.

        Raises:
            UsageError: resuming a journal made with a different model/dataset/target, one
                without checksums, one whose header is damaged, or a file that is not a journal.
        """
        journal = cls(path=Path(path), config=config)
        if resume and journal.path.is_file() and journal.path.stat().st_size:
            journal._load()
            if journal.damaged:
                events.emit(
                    events.Message(
                        f"{journal.damaged} damaged line(s) in {journal.path}: their samples are measured again.",
                        "warning",
                    )
                )
                journal._rewrite()
        else:
            if resume:
                events.emit(
                    events.Message(f"no journal in {journal.path.parent} to resume; starting from the first sample.")
                )
            journal._rewrite()
        with writing(journal.path):
            journal._fh = open(journal.path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())
        return journal

    def _load(self) -> None:
        fp, samples, sizes = self.fingerprint, int(self.config["samples"]), list(self.config["output_bytes"])
        conflicts: set[int] = set()
        with writing(self.path), open(self.path, "rb") as fh:
            self._check_header(fh.readline(_HEADER_BYTES + 1))
            for raw in _lines(fh, _line_limit(sizes)):
                entry = _parse(raw, fp, samples, sizes) if raw is not None else None
                if entry is None:
                    self.damaged += 1
                elif entry.index in conflicts or entry.index in self.entries:
                    # a second line for one sample: harmless if identical; if not, neither is trusted
                    self.damaged += 1
                    old = self.entries.get(entry.index)
                    if old is not None and old != entry:
                        del self.entries[entry.index]
                        conflicts.add(entry.index)
                        self.damaged += 1
                else:
                    self.entries[entry.index] = entry

    def _check_header(self, raw: bytes) -> None:
        header = _json_object(raw) if raw.endswith(b"\n") else None
        if header is None or "tinyflow_journal" not in header:
            first = raw[:60].decode("utf-8", "replace").rstrip("\n")
            raise UsageError(
                f"{self.path} is not a tinyflow evaluation journal (first line: {first!r})",
                "Remove it, or pass another --report directory.",
            )
        if header["tinyflow_journal"] == 1:
            raise UsageError(
                f"The journal in {self.path.parent} has no checksums (format 1, an older tinyflow), "
                "so its records cannot be verified",
                "Run without --resume to measure every sample again.",
            )
        config = header.get("config")
        if (
            header["tinyflow_journal"] != VERSION
            or not isinstance(config, dict)
            or header.get("fingerprint") != fingerprint(config)
        ):
            raise UsageError(
                f"The header of {self.path} is damaged (format, configuration and fingerprint disagree)",
                "Run without --resume to start over.",
            )
        if header["fingerprint"] != self.fingerprint:
            raise UsageError(
                f"Cannot resume: the journal in {self.path.parent} was made with a different "
                f"configuration ({_differences(config, self.config)})",
                "Run with the same model, dataset and target, or drop --resume to start over.",
            )

    def _rewrite(self) -> None:
        """Replace the file by the header and every kept entry: a new file, renamed over the old one."""
        make_dir(self.path.parent)
        tmp = self.path.with_name(f"{self.path.name}.tmp{os.getpid()}")
        for stale in self.path.parent.glob(f"{self.path.name}.tmp*"):  # left by a run killed mid-rewrite
            stale.unlink(missing_ok=True)
        header = {"tinyflow_journal": VERSION, "config": self.config, "fingerprint": self.fingerprint}
        with writing(self.path):
            try:
                with open(tmp, "w", encoding="utf-8") as fh:
                    fh.write(json.dumps(header, sort_keys=True) + "\n")
                    for i in sorted(self.entries):
                        fh.write(self.entries[i].to_line(self.fingerprint) + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
            finally:
                tmp.unlink(missing_ok=True)  # only still there if writing it failed
            _sync_dir(self.path.parent)

    def record(self, entry: Entry) -> None:
        """Append one finished sample and fsync it before returning."""
        if entry.index in self.entries:
            self.duplicates += 1
            return
        self.entries[entry.index] = entry
        self._fh.write(entry.to_line(self.fingerprint) + "\n")
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


def _line_limit(sizes: list[int]) -> int:
    """The longest line a valid record of these output sizes can have (longer ones are not parsed)."""
    return sum(4 * ((s + 2) // 3) + 8 for s in sizes) + 512


def _lines(fh, limit: int) -> Iterator[bytes | None]:
    """Each line after the header without its newline; None for one over `limit` bytes or a torn last line."""
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        if line.endswith(b"\n"):
            yield line[:-1]
        elif len(line) <= limit:  # the end of the file in the middle of a line: the run died writing it
            yield None
            return
        else:
            while line and not line.endswith(b"\n"):  # skip the rest without holding it
                line = fh.readline(1 << 16)
            yield None


def _json_object(raw: bytes) -> dict | None:
    """The JSON object on a line, or None for anything else (bad UTF-8, NaN, too deep, not an object)."""

    def no_constants(name):
        raise ValueError(name)

    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=no_constants)
    except (ValueError, RecursionError):  # UnicodeDecodeError and over-long ints are ValueErrors
        return None
    return value if isinstance(value, dict) else None


def _parse(raw: bytes, fp: str, samples: int, sizes: list[int]) -> Entry | None:
    """The entry on one record line, or None when the line is damaged in any way."""
    r = _json_object(raw)
    if r is None or set(r) != _KEYS or not _is_int(r["i"], samples) or not _is_int(r["ticks"], _BIG):
        return None
    if not (
        _is_real(r["us"])
        and _is_real(r["wall"])
        and isinstance(r["c"], list)
        and len(r["c"]) == 3
        and all(_is_int(c, _BIG) for c in r["c"])
    ):
        return None
    if not (isinstance(r["out"], list) and len(r["out"]) == len(sizes) and all(isinstance(o, str) for o in r["out"])):
        return None
    crc = r.pop("crc")
    if type(crc) is not int or crc != _crc(r, fp):
        return None
    try:
        outputs = [base64.b64decode(o, validate=True) for o in r["out"]]
    except (binascii.Error, ValueError):
        return None
    if [len(o) for o in outputs] != sizes:
        return None
    return Entry(
        index=r["i"],
        outputs=outputs,
        ticks=r["ticks"],
        microseconds=float(r["us"]),
        wall=float(r["wall"]),
        counters=tuple(r["c"]),
    )


def _is_int(value, end: int) -> bool:
    return type(value) is int and 0 <= value < end


def _is_real(value) -> bool:
    return type(value) in (int, float) and math.isfinite(value) and 0 <= value < 1e18


@contextmanager
def lock_folder(folder) -> Iterator[Path]:
    """Hold the report folder for one run; a second run into it fails at once, naming this one's PID.

    An OS lock (flock) on DIR/.tinyflow-eval.lock, released when the run ends by any path and by
    the OS when the process dies (even by SIGKILL): a stale lock file never blocks a later run.

    Raises:
        UsageError: another process holds the folder, or the folder cannot be written or locked.
    """
    folder = make_dir(folder)
    path = folder / LOCK_NAME
    # no O_TRUNC: the holder's PID is in there; no symlinks: never write through one into elsewhere
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    with writing(path):
        fd = os.open(path, flags, 0o644)
    try:
        with writing(path):
            locked = _try_lock(fd)
        if not locked:
            raise UsageError(
                f"Another tinyflow eval ({_holder(fd)}) is using the report folder {folder}",
                "Wait for it to finish (or stop it), or pass another --report directory.",
            )
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield folder
    finally:
        os.close(fd)  # releases the lock


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except (OSError, AttributeError):  # no pread on Windows
        text = ""
    return f"PID {text}" if text.isdigit() else "PID unknown"


def _sync_dir(folder: Path) -> None:
    """A renamed or new file's directory entry must reach the disk too."""
    try:
        fd = os.open(folder, os.O_RDONLY)
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
