"""Capture into the store: a device's sensor frames cut into labelled windows, or one long take.

Pure of the link: `record_windows` and `record_take` consume blocks (anything with `offset`,
`ticks64` and `data` shaped (frames, channels) int16, as tinyflow.targets.client.DeviceClient.capture
yields them) and write what they cut. The CLI (tinyflow/cli/capture.py) opens the device.

- Windows go through `Store.add_sample`: WAV for audio, CSV for IMU/ADC, with the sensor, rate,
  device (the board id of its HELLO) and capture time in the manifest. The device's timestamp of
  each window's first frame (ticks64 and its rate) goes to DIR/.captures.jsonl, one JSON line per
  window, since the manifest has no column for it.
- Blocks are checked to follow each other: a gap is counted as lost, an overlap as duplicated
  (both 0 on a played file, however noisy the link).
- Progress goes to a `progress(done, total, detail)` callback (the CLI turns it into
  tinyflow.events.Progress), `detail` a level meter: peak and RMS of the last block in dBFS.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from tinyflow.data.sample_files import encode_sample
from tinyflow.data.store import create_store
from tinyflow.errors import DataError, UsageError
from tinyflow.outputs import atomic_write, inside, make_dir, writing

SENSORS = {1: "audio", 2: "imu", 3: "adc"}  # hal.h TINYFLOW_SENSOR_*
TIMESTAMPS = ".captures.jsonl"
MAX_WINDOW_FRAMES = 16 << 20  # one window held in memory (17 minutes of 16 kHz audio)
Progress = Callable[[int, int, str], None]  # (done, total, level meter)


def _quiet(done: int, total: int, detail: str) -> None:
    pass


@dataclass
class CaptureReport:
    """What a capture recorded: windows (or one take), where, and what the link lost."""

    output: str
    label: str
    sensor: str
    rate_hz: int
    channels: int
    device: str
    windows: int
    added: int
    frames: int
    lost: int
    duplicated: int
    version: str = ""  # the store's version after the capture ("" for a take)
    take: str = ""  # the take's file (--continuous)
    link: dict = field(default_factory=dict)  # what the link had to do (retries, resyncs, bad frames...)

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def __str__(self) -> str:
        link = f"{self.lost} frame(s) lost, {self.duplicated} duplicated"
        if self.link.get("retries"):
            link += f" ({self.link['retries']} request(s) retried over the link)"
        if self.take:
            return (
                f"Recorded a {self.frames / self.rate_hz:.2f} s take of {self.label} ({self.sensor}, {self.rate_hz} Hz, "
                f"{self.channels} ch) from {self.device} to {self.take}; {link}\n"
                f"Cut it into samples with: tinyflow data segment {self.take} -o STORE --label {self.label}"
            )
        return (
            f"Captured {self.windows} window(s) of {self.label} ({self.sensor}, {self.rate_hz} Hz, {self.channels} ch) "
            f"from {self.device}: {self.added} added to {self.output} ({self.windows - self.added} already there); "
            f"{link}; version {self.version[:16]}"
        )


class _Stream:
    """Blocks in, checked for continuity (gaps are lost frames, overlaps duplicated ones), with a meter."""

    def __init__(self, blocks, channels: int):
        self.blocks, self.channels = iter(blocks), channels
        self.next = 0
        self.lost = self.duplicated = 0

    def __iter__(self):
        for block in self.blocks:
            data = np.asarray(block.data, dtype=np.int16).reshape(-1, self.channels)
            offset = int(block.offset)
            if offset > self.next:
                self.lost += offset - self.next
            elif offset < self.next:
                skip = min(self.next - offset, len(data))
                self.duplicated += skip
                data, offset = data[skip:], offset + skip
            self.next = offset + len(data)
            if len(data):
                yield offset, int(block.ticks64), data


def level_dbfs(data: np.ndarray) -> tuple[float, float]:
    """(peak, RMS) of int16 frames in dBFS (0 = full scale; -inf for silence)."""
    x = np.abs(np.asarray(data, dtype=np.float64)) / 32768.0
    if not x.size:
        return -math.inf, -math.inf
    peak, rms = float(x.max()), float(np.sqrt(np.mean(x**2)))
    return (20 * math.log10(peak) if peak > 0 else -math.inf), (20 * math.log10(rms) if rms > 0 else -math.inf)


def _meter(data: np.ndarray) -> str:
    peak, rms = level_dbfs(data)
    bars = 0 if math.isinf(rms) else max(0, min(20, int((rms + 60) / 3)))
    return f"level |{'#' * bars}{'.' * (20 - bars)}| peak {peak:.1f} dBFS, rms {rms:.1f} dBFS"


def record_windows(
    blocks,
    out: str | os.PathLike,
    label: str,
    *,
    count: int,
    seconds: float,
    rate_hz: int,
    channels: int,
    kind: int,
    device: str,
    ticks_per_second: int,
    progress: Progress = _quiet,
) -> CaptureReport:
    """Cut `count` consecutive windows of `seconds` from `blocks` into the store `out` as `label`.

    Raises:
        DataError: the stream ended before `count` windows (the complete ones are kept).
    """
    width = _window_frames(seconds, rate_hz)
    sensor = SENSORS.get(kind, "adc")
    store = create_store(out)
    stream = _Stream(blocks, channels)
    pending: list[np.ndarray] = []
    have, windows, added = 0, 0, 0
    stamps: list[dict] = []
    progress(0, count, "")
    with store:
        for offset, ticks, data in stream:
            pending.append(data)
            have += len(data)
            while have >= width and windows < count:
                frames = np.concatenate(pending)
                window, rest = frames[:width], frames[width:]
                first = offset + len(data) - have  # frame index of the window's first frame
                # the device's time of that frame: this block's, moved along at the sensor's rate
                first_ticks = ticks + (first - offset) * ticks_per_second // rate_hz
                entry, new = store.add_sample(
                    window, label, sensor=sensor, sample_rate=rate_hz, device=device, captured_at=_now()
                )
                stamps.append(_stamp(entry, device, first, first_ticks, ticks_per_second))
                windows, added = windows + 1, added + new
                pending, have = [rest], len(rest)
                progress(windows, count, _meter(data))
            if windows >= count:
                break
        _append_stamps(store.root, stamps)
    report = CaptureReport(
        str(out), label, sensor, rate_hz, channels, device, windows, added, windows * width,
        stream.lost, stream.duplicated, store.version,
    )  # fmt: skip
    if windows < count:
        raise DataError(
            f"The sensor stream ended after {windows} of {count} window(s) of {label} (kept in {out})",
            "Play a longer recording, or ask for fewer windows with --count.",
        )
    return report


def record_take(
    blocks,
    out: str | os.PathLike,
    label: str,
    *,
    seconds: float,
    rate_hz: int,
    channels: int,
    kind: int,
    device: str,
    progress: Progress = _quiet,
) -> CaptureReport:
    """Record one take of `seconds` (or until the stream ends) to a WAV (audio) or CSV file.

    `out` is the file (.wav or .csv) or a folder, where `LABEL-UTC.wav|csv` is written; the take is
    cut into samples afterwards by `tinyflow data segment` (tinyflow.data.segment)."""
    total = _window_frames(seconds, rate_hz)
    sensor = SENSORS.get(kind, "adc")
    stream = _Stream(blocks, channels)
    parts, have = [], 0
    for _, _, data in stream:
        parts.append(data[: total - have])
        have += len(parts[-1])
        progress(have, total, _meter(data))  # in frames
        if have >= total:
            break
    take = np.concatenate(parts) if parts else np.zeros((0, channels), dtype=np.int16)
    fmt = "wav" if sensor == "audio" else "csv"
    path = _take_path(Path(out), label, fmt)
    with writing(path.parent):
        make_dir(path.parent)
        atomic_write(path, encode_sample(take, fmt, sample_rate=rate_hz))
    return CaptureReport(
        str(out), label, sensor, rate_hz, channels, device, 0, 0, len(take), stream.lost, stream.duplicated,
        take=str(path),
    )  # fmt: skip


def _window_frames(seconds: float, rate_hz: int) -> int:
    width = int(round(seconds * rate_hz))
    if not 1 <= width <= MAX_WINDOW_FRAMES:
        raise UsageError(
            f"{seconds:g} s at {rate_hz} Hz is {width:,} frames; a capture window holds 1 to {MAX_WINDOW_FRAMES:,}",
            "Change --seconds.",
        )
    return width


def _take_path(out: Path, label: str, fmt: str) -> Path:
    if out.suffix.lower() in (".wav", ".csv"):
        if out.suffix.lower() != f".{fmt}":
            raise UsageError(f"This sensor's take is a .{fmt} file, not {out.name}", f"Give -o TAKE.{fmt} or a folder.")
        return out
    slug = "".join(c if c.isalnum() or c in "-_" else "_" for c in label)[:64] or "take"
    return out / f"{slug}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}.{fmt}"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stamp(entry, device: str, first: int, ticks: int, ticks_per_second: int) -> dict:
    return {
        "path": entry.path,
        "sha256": entry.sha256,
        "device": device,
        "first_frame": first,
        "device_ticks64": ticks,
        "ticks_per_second": ticks_per_second,
        "captured_at": entry.captured_at,
    }


def _append_stamps(root: Path, stamps: list[dict]) -> None:
    """Add the windows' device timestamps to DIR/.captures.jsonl (rewritten whole, atomically)."""
    if not stamps:
        return
    path = inside(root, TIMESTAMPS)
    old = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
    new = "".join(json.dumps(s, sort_keys=True) + "\n" for s in stamps).encode()
    with writing(root):
        atomic_write(path, old + new)
