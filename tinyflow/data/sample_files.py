"""One sample, one file anyone can open: WAV (audio), CSV (time series), NPY (anything else).

Pure codecs: `encode_sample` turns an array into the canonical bytes of its file (so equal
samples have equal bytes and equal SHA-256: the store detects duplicates by content), and
`decode_sample` reads them back as untrusted input: every size a header declares is checked
against the bytes actually present before anything is allocated.

Arrays are (time, channels). WAV holds int16 PCM; CSV a header of channel names then one row per
time step; NPY any numeric array (no pickle).
"""

from __future__ import annotations

import csv
import io
import math
import wave
from array import array
from dataclasses import dataclass

import numpy as np

from tinyflow.data.files import is_number
from tinyflow.errors import DataError

FORMATS = ("wav", "csv", "npy")
MAX_CHANNELS = 1024
MAX_NAME_CHARS = 64  # a channel name in a CSV header


@dataclass(frozen=True)
class Decoded:
    """A decoded sample: `data` shaped (time, channels), its channel names and WAV sample rate."""

    data: np.ndarray
    channels: tuple[str, ...] = ()
    sample_rate: float = 0.0  # from the WAV header; 0 for CSV and NPY (the manifest says)


def format_for(sensor: str, data: np.ndarray) -> str:
    """The file format of a sample: WAV for int16 audio, CSV for 2-D time series, NPY otherwise."""
    if sensor == "audio" and data.dtype == np.int16 and data.ndim in (1, 2):
        return "wav"
    if data.ndim in (1, 2) and data.dtype.kind in "iuf":
        return "csv"
    return "npy"


def encode_sample(data: np.ndarray, fmt: str, *, sample_rate: float = 0.0, channels=()) -> bytes:
    """The canonical bytes of `data` as a `fmt` file (wav, csv or npy)."""
    data = np.asarray(data)
    if data.dtype.kind not in "biuf":
        raise DataError(f"A sample has dtype {data.dtype}, not numbers", "Store numeric samples.")
    if fmt == "wav":
        return _encode_wav(data, sample_rate)
    if fmt == "csv":
        return _encode_csv(data, channels)
    if fmt == "npy":
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(data), allow_pickle=False)
        return buf.getvalue()
    raise DataError(f"Unknown sample format {fmt[:20]!r}", f"Use one of {', '.join(FORMATS)}.")


def _encode_wav(data: np.ndarray, sample_rate: float) -> bytes:
    if data.dtype != np.int16:
        raise DataError(f"A WAV sample must be int16, got {data.dtype}", "Convert the audio to 16-bit PCM.")
    if not (1 <= sample_rate <= 1_000_000 and float(sample_rate).is_integer()):
        raise DataError(f"A WAV sample needs a whole sample rate in Hz, got {sample_rate}", "Pass sample_rate=16000.")
    frames = data.reshape(len(data), -1)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(frames.shape[1])
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(frames.astype("<i2").tobytes())
    return buf.getvalue()


def _encode_csv(data: np.ndarray, channels) -> bytes:
    frames = data.reshape(len(data), -1)
    names = list(channels) or [f"ch{i}" for i in range(frames.shape[1])]
    if len(names) != frames.shape[1]:
        raise DataError(f"{len(names)} channel names for {frames.shape[1]} channels", "Name every channel once.")
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(names)
    # numpy writes each value as the shortest text that reads back to it at its own precision
    # (float32 0.841063, not 0.8410630226135254)
    out.writerows(frames.astype(np.int64 if frames.dtype.kind == "b" else frames.dtype).astype(str).tolist())
    return buf.getvalue().encode()


def decode_sample(raw: bytes, fmt: str, where: str) -> Decoded:
    """Read a sample file's bytes (untrusted) back into an array.

    Raises:
        DataError: the bytes are not a well-formed file of `fmt`.
    """
    try:
        if fmt == "wav":
            return _decode_wav(raw, where)
        if fmt == "csv":
            return _decode_csv(raw, where)
        if fmt == "npy":
            return _decode_npy(raw, where)
    # RuntimeError: wave's chunk reader raises it for a chunk size past the end of the file
    except (wave.Error, EOFError, ValueError, UnicodeDecodeError, csv.Error, RuntimeError) as exc:
        text = str(exc)[:120] or type(exc).__name__
        raise DataError(f"{where} is not a valid .{fmt} sample ({text})", "Remove it from the store.") from None
    raise DataError(f"{where} has the unknown format {fmt[:20]!r}", f"Use one of {', '.join(FORMATS)}.")


def _decode_wav(raw: bytes, where: str) -> Decoded:
    with wave.open(io.BytesIO(raw), "rb") as w:
        if w.getsampwidth() != 2 or w.getcomptype() != "NONE":
            raise DataError(
                f"{where} is {8 * w.getsampwidth()}-bit {w.getcomptype()} audio, not 16-bit PCM",
                "Convert it first: sox IN.wav -b 16 OUT.wav",
            )
        n, ch = w.getnframes(), w.getnchannels()
        # readframes allocates what the header declares only up to the bytes present
        frames = w.readframes(n)
        rate = w.getframerate()
    if not 1 <= ch <= MAX_CHANNELS or len(frames) != n * ch * 2:
        raise DataError(f"{where}: the WAV header declares {n} frames of {ch} channels", "Remove the damaged file.")
    data = np.frombuffer(frames, dtype="<i2").astype(np.int16).reshape(n, ch)
    return Decoded(data, tuple(f"ch{i}" for i in range(ch)), float(rate))


def _decode_csv(raw: bytes, where: str) -> Decoded:
    rows = csv.reader(io.StringIO(raw.decode("utf-8"), newline=""))
    header = next(rows, None)
    if not header or len(header) > MAX_CHANNELS or any(len(h) > MAX_NAME_CHARS for h in header):
        raise DataError(
            f"{where} needs at most {MAX_CHANNELS} columns (and names of at most {MAX_NAME_CHARS} characters)",
            "Put one channel per column, one time step per line.",
        )
    values, n = array("d"), 0  # 8 B a value (a list of floats takes 32)
    if all(is_number(h) for h in header):  # no header: the first line is data
        values.extend(float(v) for v in header)
        header, n = [f"ch{i}" for i in range(len(header))], 1
    for row in rows:
        if not row:
            continue
        if len(row) != len(header):
            raise DataError(f"{where}: row {n + 1} has {len(row)} fields for {len(header)} channels", "Fix the row.")
        values.extend(float(v) for v in row)
        n += 1
    data = np.frombuffer(values, dtype=np.float64).reshape(n, len(header))
    if data.size and np.all(np.isfinite(data)) and np.all(data == np.round(data)) and np.abs(data).max() < 2**31:
        data = data.astype(np.int32)  # integers as written (an ADC's counts)
    return Decoded(data, tuple(header))


def _decode_npy(raw: bytes, where: str) -> Decoded:
    from numpy.lib import format as npy

    fh = io.BytesIO(raw)
    version = npy.read_magic(fh)
    shape, _, dtype = (npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0)(fh)
    if dtype.hasobject or dtype.kind not in "biuf":
        raise DataError(f"{where} holds {dtype} values, not plain numbers", "Save numeric arrays (no pickle).")
    if math.prod(shape) * dtype.itemsize > len(raw):
        raise DataError(f"{where} declares shape {tuple(shape)}, larger than the file", "Remove the damaged file.")
    fh.seek(0)
    data = npy.read_array(fh, allow_pickle=False)
    if data.ndim == 0:
        data = data.reshape(1)
    return Decoded(data.reshape(len(data), -1) if data.ndim == 1 else data)
