"""`tinyflow data import`: folders of WAV/CSV recordings into a store (label = folder name).

    SRC/yes/a.wav, SRC/no/b.wav            labels yes and no, splits by the stable hash
    SRC/train/yes/a.wav, SRC/test/yes/c.wav   a folder named train, val or test sets the split

Every file is untrusted input: regular files only, each within the store's per-sample bound,
decoded and written again canonically (so two copies of one recording are one sample).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from tinyflow.data.manifest import MAX_ROWS, SPLITS
from tinyflow.data.sample_files import decode_sample
from tinyflow.data.store import MAX_SAMPLE_BYTES, create_store
from tinyflow.errors import DataError, UsageError
from tinyflow.inputs import read_regular

SUFFIXES = {".wav": "wav", ".csv": "csv"}


@dataclass
class ImportReport:
    """What an import added: samples per label, duplicates skipped, the store's new version."""

    store: str
    added: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    version: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def __str__(self) -> str:
        shown = ", ".join(f"{label} {n}" for label, n in sorted(self.added.items())) or "nothing"
        return (
            f"Imported into {self.store}: {shown} ({sum(self.added.values())} samples, "
            f"{self.duplicates} duplicate(s) skipped); version {self.version[:16]}"
        )


def import_folders(
    sources: list[str | os.PathLike], out: str | os.PathLike, *, sensor: str = "", rate: float = 0.0, device: str = ""
) -> ImportReport:
    """Add every .wav/.csv file under the label folders of `sources` to the store `out`.

    Args:
        sensor: for CSV files (WAV files are `audio`); default `imu`.
        rate: sample rate of CSV files in Hz (WAV files carry theirs); 0 = unknown.
    Raises:
        UsageError: a source is not a folder. DataError: a file is not a valid recording.
    """
    found = [item for src in sources for item in _files(Path(src))]
    if not found:
        raise UsageError(
            f"No .wav or .csv files in label folders under {', '.join(map(str, sources))}",
            "Lay them out as SRC/LABEL/FILE.wav (or .csv): the folder name is the label.",
        )
    store = create_store(out)
    report = ImportReport(str(out))
    with store:  # the manifest is saved once at the end, also after a failure midway
        for path, label, split in found:
            raw = read_regular(path, "Recording", MAX_SAMPLE_BYTES, DataError)
            got = decode_sample(raw, SUFFIXES[path.suffix.lower()], str(path))
            audio = path.suffix.lower() == ".wav"
            _, added = store.add_sample(
                got.data,
                label,
                sensor="audio" if audio else (sensor or "imu"),
                sample_rate=got.sample_rate if audio else rate,
                device=device,
                split=split,
                channels=got.channels if not audio else (),
            )
            report.added[label] = report.added.get(label, 0) + added
            report.duplicates += not added
    report.version = store.version
    return report


def _files(src: Path) -> list[tuple[Path, str, str | None]]:
    """(file, label, split or None) for every recording under `src`, in a stable order."""
    if not src.is_dir():
        raise UsageError(f"{src} is not a folder", "Give folders whose subfolders are named by label.")
    out = []
    for top in sorted(p for p in src.iterdir() if p.is_dir() and not p.is_symlink()):
        if top.name in SPLITS:
            labels = sorted(p for p in top.iterdir() if p.is_dir() and not p.is_symlink())
            out += [(f, d.name, top.name) for d in labels for f in _recordings(d)]
        else:
            out += [(f, top.name, None) for f in _recordings(top)]
        if len(out) > MAX_ROWS:
            raise DataError(f"{src} has more than {MAX_ROWS:,} recordings", "Import fewer at a time.")
    return out


def _recordings(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and not p.name.startswith("."))
