"""The dataset store: a folder of sample files and a manifest anyone can read without tinyflow.

    DIR/manifest.csv        path,label,sha256,sensor,sample_rate,device,captured_at,split,group
    DIR/store.json          the split fractions new samples are assigned with
    DIR/samples/LABEL/SHA.wav|csv|npy   one file per sample (tinyflow.data.sample_files)

- Content-addressed: a sample's file is named by the SHA-256 of its canonical bytes, so adding
  the same sample twice stores it once.
- Stable splits: a sample's split is a hash of its group (a speaker, a session, a voice) or, with
  no group, of its content; adding samples never moves the ones already there.
- The version is the SHA-256 of the manifest as tinyflow writes it (`sha256sum manifest.csv`):
  reports record it so a result names the exact data it came from.
- Everything read from a store is untrusted: the manifest's size and rows are bounded, its paths
  must stay inside the folder, and every file is checked against its SHA-256 before it is decoded.

Capture writes through `Store.add_sample` (atomic file writes, tinyflow.outputs); `Store.save`
writes the manifest atomically (call it once after a batch: the `with` block does).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from tinyflow.data.manifest import HINT, SPLITS, Entry, check_entry, manifest_text, parse_manifest
from tinyflow.data.sample_files import Decoded, decode_sample, encode_sample, format_for
from tinyflow.errors import DataError, UsageError
from tinyflow.inputs import read_regular
from tinyflow.outputs import atomic_write, inside, make_dir, writing

MANIFEST = "manifest.csv"
META = "store.json"
MAX_MANIFEST_BYTES = 64 << 20
MAX_SAMPLE_BYTES = 64 << 20  # one sample file (a minute of 16 kHz stereo is 3.8 MB)
MAX_TOTAL_BYTES = 2 << 30  # the sample files of one store read together


def split_for(key: str, val: float = 0.15, test: float = 0.15) -> str:
    """The split of a sample whose group (or content hash) is `key`: a stable hash, no state."""
    h = int.from_bytes(hashlib.sha256(b"tinyflow-split:" + key.encode()).digest()[:8], "big") / 2**64
    return "test" if h < test else "val" if h < test + val else "train"


def is_store(path: str | os.PathLike) -> bool:
    """A folder holding a manifest.csv is a store."""
    return Path(path).is_dir() and os.path.lexists(Path(path) / MANIFEST)


class Store:
    """A dataset store on disk: its entries (rows of the manifest) and split fractions."""

    def __init__(self, root: Path, entries: list[Entry], val: float = 0.15, test: float = 0.15):
        self.root, self.entries, self.val, self.test = Path(root), entries, val, test
        self._by_sha = {e.sha256: e for e in entries}

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.save()

    @property
    def version(self) -> str:
        """SHA-256 of the manifest as saved: changes whenever a sample, label or split does."""
        return hashlib.sha256(manifest_text(self.entries).encode()).hexdigest()

    def add_sample(
        self,
        data: np.ndarray,
        label: str,
        *,
        sensor: str = "",
        sample_rate: float = 0.0,
        device: str = "",
        captured_at: str | None = None,
        split: str | None = None,
        group: str = "",
        channels=(),
    ) -> tuple[Entry, bool]:
        """Write one sample (shaped (time, channels)) and add it to the manifest (saved by save()).

        Args:
            split: train, val or test; None assigns it by the stable hash of `group` or content.
            channels: names of the columns of a CSV sample (default ch0, ch1, ...).
        Returns:
            (entry, added): `added` is False when the same bytes were already in the store.
        Raises:
            DataError: bad metadata, or the same sample already stored under another label.
        """
        data = np.asarray(data)
        fmt = format_for(sensor, data)
        raw = encode_sample(data, fmt, sample_rate=sample_rate, channels=channels)
        sha = hashlib.sha256(raw).hexdigest()
        if sha in self._by_sha:
            old = self._by_sha[sha]
            if old.label != label:
                raise DataError(
                    f"This sample is already in {self.root} as {old.path} with label {old.label!r}, not {label!r}",
                    "Check the label: the same recording cannot be two classes.",
                )
            return old, False
        if split is not None and split not in SPLITS:
            raise UsageError(f"Unknown split {split[:20]!r}", f"Use one of {', '.join(SPLITS)}.")
        entry = Entry(
            path=f"samples/{_slug(label)}/{sha[:16]}.{fmt}",
            label=label,
            sha256=sha,
            sensor=sensor,
            sample_rate=float(sample_rate),
            device=device,
            captured_at=captured_at or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            split=split or split_for(group or sha, self.val, self.test),
            group=group,
        )
        check_entry(entry, "add_sample")
        with writing(self.root):
            atomic_write(inside(self.root, entry.path), raw)  # inside(): no link on the way
        self.entries.append(entry)
        self._by_sha[sha] = entry
        return entry, True

    def reassign_splits(self, val: float, test: float) -> dict[str, int]:
        """Give every sample the split of its stable hash with new fractions; returns counts per split."""
        _check_fractions(val, test)
        self.val, self.test = val, test
        self.entries = [replace(e, split=split_for(e.group or e.sha256, val, test)) for e in self.entries]
        self._by_sha = {e.sha256: e for e in self.entries}
        return {s: sum(e.split == s for e in self.entries) for s in SPLITS}

    def save(self) -> None:
        """Write store.json and manifest.csv atomically (a crash leaves the old manifest or the new one)."""
        with writing(self.root):
            make_dir(self.root)
            meta = {"format": "tinyflow-store/1", "val": self.val, "test": self.test}
            atomic_write(inside(self.root, META), (json.dumps(meta, indent=1) + "\n").encode())
            atomic_write(inside(self.root, MANIFEST), manifest_text(self.entries).encode())

    def read(self, entry: Entry, budget: int = MAX_SAMPLE_BYTES) -> Decoded:
        """The decoded sample of `entry`, after checking its path, size and SHA-256."""
        path = self.root
        for part in entry.path.split("/"):  # parts were checked plain when the manifest was read
            path = path / part
            if path.is_symlink():  # a link could point anywhere on the machine
                raise DataError(f"{path} is a symbolic link; a store's samples are plain files", HINT)
        raw = read_regular(path, "Sample file", min(budget, MAX_SAMPLE_BYTES), DataError)
        sha = hashlib.sha256(raw).hexdigest()
        if sha != entry.sha256:
            raise DataError(
                f"{path} has SHA-256 {sha[:16]}... but the manifest says {entry.sha256[:16]}...: it changed since it was added",
                "Restore the file, or remove its row from manifest.csv.",
            )
        return decode_sample(raw, entry.format, str(path))

    def samples(self) -> Iterator[tuple[Entry, Decoded | DataError]]:
        """Every entry with its decoded sample, or the DataError that reading it raised (for `check`)."""
        left = MAX_TOTAL_BYTES
        for entry in self.entries:
            try:
                decoded = self.read(entry, left)
            except DataError as exc:
                yield entry, exc
                continue
            left -= decoded.data.nbytes
            if left < 0:
                raise DataError(
                    f"{self.root} holds more than {MAX_TOTAL_BYTES >> 20:,} MiB of samples",
                    "Split the store into smaller ones.",
                )
            yield entry, decoded


def create_store(root: str | os.PathLike, val: float = 0.15, test: float = 0.15) -> Store:
    """Open the store at `root`, creating an empty one (and the folder) if there is none."""
    root = Path(root)
    if is_store(root):
        return open_store(root)
    if root.exists() and not root.is_dir():
        raise UsageError(f"Cannot make a store at {root}: it is a file", "Give a folder.")
    if root.is_dir() and any(root.iterdir()):  # -o . by mistake would scatter samples/ into it
        raise UsageError(
            f"{root} is not empty and is not a dataset store (no {MANIFEST})", "Give a new or empty folder with -o."
        )
    _check_fractions(val, test)
    store = Store(root, [], val, test)
    store.save()
    return store


def open_store(root: str | os.PathLike) -> Store:
    """Read the store at `root` (untrusted: bounded, every row and path checked).

    Raises:
        DataError: no manifest, or a manifest that is too big, malformed or names a path outside.
    """
    root = Path(root)
    if not is_store(root):
        raise DataError(f"{root} is not a dataset store (no {MANIFEST})", "Create one with `tinyflow data import`.")
    if (root / MANIFEST).is_symlink():  # reading through it could reach any file on the machine
        raise DataError(f"{root / MANIFEST} is a symbolic link; a store's manifest is a plain file", HINT)
    raw = read_regular(root / MANIFEST, "Store manifest", MAX_MANIFEST_BYTES, DataError)
    entries = parse_manifest(raw, str(root / MANIFEST))
    val, test = _read_meta(root)
    return Store(root, entries, val, test)


def _check_fractions(val: float, test: float) -> None:
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise UsageError(f"Split fractions val={val} test={test} are invalid", "Use 0 <= val, test and val + test < 1.")


def _read_meta(root: Path) -> tuple[float, float]:
    if not os.path.lexists(root / META):
        return 0.15, 0.15
    raw = read_regular(root / META, "Store settings", 1 << 16, DataError)
    try:
        meta = json.loads(raw)
        val, test = float(meta["val"]), float(meta["test"])
        _check_fractions(val, test)
    except (ValueError, KeyError, TypeError, UsageError):
        raise DataError(f"{root / META} is not valid store settings", "Delete it: the defaults then apply.") from None
    return val, test


def _slug(label: str) -> str:
    """A folder name for a label (the manifest keeps the label itself): safe characters only."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", label)[:64].strip("_")
    return slug or "label"
