"""`tinyflow data segment`: cut one long take into samples of equal length.

- Audio (WAV): by energy. 10 ms frames louder than `threshold_db` (dBFS) are speech; runs closer
  than `gap` seconds are one utterance; each utterance becomes one window of `seconds` centred on
  its energy (cropped or padded with zeros), the way keyword datasets are cut.
- Time series (CSV, e.g. an IMU): fixed windows of `seconds` with `overlap`.

Every window of one take gets the group `take:SHA` (the take's content hash), so overlapping
windows of one recording always land in the same split: never one in train and its neighbour in
test.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyflow.data.sample_files import decode_sample
from tinyflow.data.store import create_store
from tinyflow.errors import DataError, UsageError
from tinyflow.inputs import read_regular

FRAME_SECONDS = 0.01
# Decoding and framing peak at ~10x a WAV file and ~14x a CSV file (8-byte values from 2-byte
# text), so these keep a take under the 2 GiB the hostile corpus allows.
MAX_TAKE_BYTES = 128 << 20  # WAV: an hour of 16 kHz mono is 115 MB
MAX_CSV_TAKE_BYTES = 32 << 20


@dataclass
class SegmentReport:
    store: str
    take: str
    label: str
    windows: int
    added: int
    version: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def __str__(self) -> str:
        text = (
            f"Cut {self.take} into {self.windows} window(s) of {self.label}: {self.added} added to {self.store} "
            f"({self.windows - self.added} already there); version {self.version[:16]}"
        )
        if not self.windows:
            text += "\nNothing was cut: a WAV take needs sound above --threshold-db, a CSV take one full window."
        return text


def energy_segments(
    audio: np.ndarray, rate: float, seconds: float = 1.0, threshold_db: float = -35.0, gap: float = 0.25
) -> list[np.ndarray]:
    """Windows of `seconds` around each utterance of `audio` (int16, (time, channels))."""
    frame = max(1, int(round(rate * FRAME_SECONDS)))
    n = len(audio) // frame
    if n == 0:
        return []
    mono = audio[: n * frame].astype(np.float64).mean(axis=1) / 32768.0
    energy = np.sqrt(np.mean(mono.reshape(n, frame) ** 2, axis=1))
    loud = 20 * np.log10(np.maximum(energy, 1e-12)) >= threshold_db
    width = int(round(seconds * rate))
    out = []
    for start, stop in _runs(loud, max_gap=int(round(gap / FRAME_SECONDS))):
        weights = energy[start:stop] ** 2
        centre = int((np.average(np.arange(start, stop), weights=weights) + 0.5) * frame)
        out.append(_window(audio, centre - width // 2, width))
    return out


def fixed_windows(data: np.ndarray, length: int, overlap: float = 0.5) -> list[np.ndarray]:
    """Windows of `length` rows of `data` (time, channels), consecutive ones sharing `overlap` of them."""
    if length < 1 or not 0 <= overlap < 1:
        raise UsageError(f"Windows of {length} rows with overlap {overlap}", "Use a length >= 1 and 0 <= overlap < 1.")
    hop = max(1, int(round(length * (1 - overlap))))
    return [data[i : i + length] for i in range(0, len(data) - length + 1, hop)]


def _runs(mask: np.ndarray, max_gap: int) -> list[tuple[int, int]]:
    """[start, stop) of the True runs of `mask`, runs closer than `max_gap` merged."""
    idx = np.flatnonzero(mask)
    if not idx.size:
        return []
    breaks = np.flatnonzero(np.diff(idx) > max_gap + 1)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    stops = np.concatenate([idx[breaks] + 1, [idx[-1] + 1]])
    return list(zip(starts.tolist(), stops.tolist()))


def _window(audio: np.ndarray, start: int, width: int) -> np.ndarray:
    out = np.zeros((width, audio.shape[1]), dtype=audio.dtype)
    lo, hi = max(start, 0), min(start + width, len(audio))
    if hi > lo:
        out[lo - start : hi - start] = audio[lo:hi]
    return out


def segment_take(
    take: str | os.PathLike,
    out: str | os.PathLike,
    label: str,
    *,
    seconds: float = 1.0,
    overlap: float = 0.5,
    threshold_db: float = -35.0,
    sensor: str = "",
    rate: float = 0.0,
    device: str = "",
) -> SegmentReport:
    """Cut the WAV or CSV recording `take` into windows of `label` and add them to the store `out`.

    Args:
        rate: the CSV's sample rate in Hz (required for CSV: windows are `seconds` long).
    """
    take = Path(take)
    fmt = {".wav": "wav", ".csv": "csv"}.get(take.suffix.lower())
    if fmt is None:
        raise UsageError(f"{take} is not a .wav or .csv recording", "Give a WAV (audio) or CSV (time series) take.")
    raw = read_regular(take, "Recording", MAX_TAKE_BYTES if fmt == "wav" else MAX_CSV_TAKE_BYTES, DataError)
    got = decode_sample(raw, fmt, str(take))
    if fmt == "wav":
        rate, sensor = got.sample_rate, "audio"
        windows = energy_segments(got.data, rate, seconds, threshold_db)
    else:
        if rate <= 0:
            raise UsageError(f"{take} is a CSV take: its sample rate is not in the file", "Pass --rate HZ.")
        windows = fixed_windows(got.data, int(round(seconds * rate)), overlap)
    group = "take:" + hashlib.sha256(raw).hexdigest()[:16]
    store = create_store(out)
    added = 0
    with store:
        for window in windows:
            _, new = store.add_sample(
                window,
                label,
                sensor=sensor or "imu",
                sample_rate=rate,
                device=device,
                group=group,
                channels=got.channels if fmt == "csv" else (),
            )
            added += new
    return SegmentReport(str(out), str(take), label, len(windows), added, store.version)
