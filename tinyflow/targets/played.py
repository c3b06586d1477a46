"""Played sensors: a recording streamed into a simulated board as if its sensor sampled it.

The host and mps2_an386 ports read one small binary file (hal.h's sensor section plays it):

    offset  size  field
    0       4     magic b"TFPS"
    4       2     version (1), u16 little-endian
    6       1     kind: 1 audio, 2 IMU, 3 ADC (TINYFLOW_SENSOR_*)
    7       1     channels (1..MAX_CHANNELS)
    8       4     rate_hz, u32 little-endian (1..MAX_RATE_HZ)
    12      4     frames, u32 little-endian
    16      ...   frames x channels int16 little-endian, interleaved (frame 0 ch 0, frame 0 ch 1, ...)

A played file is made from a WAV (mono int16 audio) or a CSV (one column per channel, integer
counts within int16, a header optional; IMU or ADC at a rate given, since CSV carries none), with
optional perturbations for tests and drift simulation: gain, offset, gaussian noise and dropouts
(zeroed spans), all seeded and deterministic. Every input is untrusted: sizes are checked before
anything is allocated, and each problem is one DataError or UsageError.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyflow.data.sample_files import decode_sample
from tinyflow.errors import DataError, UsageError
from tinyflow.inputs import read_regular

MAGIC = b"TFPS"
VERSION = 1
HEADER = struct.Struct("<4sHBBII")
KINDS = {"audio": 1, "imu": 2, "adc": 3}
KIND_NAMES = {v: k for k, v in KINDS.items()}
MAX_CHANNELS = 16
MAX_RATE_HZ = 1_000_000
# A recording read to make a played file. Decoding peaks at ~10x a WAV and ~14x a CSV (8-byte
# values from 2-byte text), as for `data segment` (tinyflow/data/segment.py).
MAX_SOURCE_BYTES = {".wav": 128 << 20, ".csv": 32 << 20, ".tfps": (128 << 20) + HEADER.size}
MAX_FRAMES = 64 << 20  # what a played file may hold (an hour of 16 kHz audio is 58 M frames)
DEFAULT_DROPOUT_FRAMES = 32


@dataclass(frozen=True)
class Perturb:
    """What is done to the recording before it is played (all deterministic for a seed).

    gain multiplies, offset adds (in counts), noise is the standard deviation of added gaussian
    noise (counts); dropouts zero spans of `dropout_frames` frames, each frame starting one with
    probability `dropout_rate`. Results are rounded and saturated to int16 like an ADC's.
    """

    gain: float = 1.0
    offset: float = 0.0
    noise: float = 0.0
    dropout_rate: float = 0.0
    dropout_frames: int = DEFAULT_DROPOUT_FRAMES
    seed: int = 0

    @property
    def active(self) -> bool:
        return self.gain != 1.0 or self.offset != 0.0 or self.noise > 0 or self.dropout_rate > 0


@dataclass
class Played:
    """A recording ready to play: int16 frames (frames, channels), its kind and rate."""

    data: np.ndarray
    kind: int
    rate_hz: int

    @property
    def channels(self) -> int:
        return self.data.shape[1]


def encode_played(played: Played) -> bytes:
    """The bytes of a played file."""
    data = np.ascontiguousarray(played.data, dtype="<i2")
    frames, channels = data.shape
    _check_shape(frames, channels, played.rate_hz, "A played recording")
    return HEADER.pack(MAGIC, VERSION, played.kind, channels, played.rate_hz, frames) + data.tobytes()


def decode_played(raw: bytes, where: str = "played file") -> Played:
    """Read a played file (untrusted): header checked against the bytes present first."""
    if len(raw) < HEADER.size:
        raise DataError(f"{where} is {len(raw)} B, shorter than the {HEADER.size} B played-file header", _REMAKE)
    magic, version, kind, channels, rate, frames = HEADER.unpack_from(raw)
    if magic != MAGIC or version != VERSION:
        raise DataError(f"{where} is not a version {VERSION} played-sensor file (magic {magic!r})", _REMAKE)
    if kind not in KIND_NAMES:
        raise DataError(f"{where} has sensor kind {kind}, not 1 (audio), 2 (IMU) or 3 (ADC)", _REMAKE)
    _check_shape(frames, channels, rate, where)
    if len(raw) != HEADER.size + frames * channels * 2:
        raise DataError(
            f"{where} declares {frames} frames of {channels} channels but holds {len(raw) - HEADER.size} data bytes",
            _REMAKE,
        )
    data = np.frombuffer(raw, dtype="<i2", offset=HEADER.size).astype(np.int16).reshape(frames, channels)
    return Played(data, kind, rate)


_REMAKE = "Make it again from the WAV or CSV with tinyflow.targets.played.write_played."


def _check_shape(frames: int, channels: int, rate: int, where: str) -> None:
    if not 1 <= channels <= MAX_CHANNELS:
        raise DataError(f"{where} has {channels} channels; a played sensor has 1 to {MAX_CHANNELS}", _REMAKE)
    if not 1 <= rate <= MAX_RATE_HZ:
        raise DataError(f"{where} has a sample rate of {rate} Hz; use 1 to {MAX_RATE_HZ:,} Hz", _REMAKE)
    if frames > MAX_FRAMES:
        raise DataError(f"{where} has {frames:,} frames, more than the {MAX_FRAMES:,} a played file holds", _REMAKE)


def load_recording(path: str | Path, *, kind: str = "", rate_hz: int = 0) -> Played:
    """A WAV (mono int16 audio), CSV (integer columns: IMU by default, or ADC) or played file.

    Args:
        kind: the sensor of a CSV: imu (default) or adc. A WAV is audio.
        rate_hz: a CSV's sample rate (required for CSV; a WAV carries its own).
    Raises:
        DataError: an unreadable, oversized or malformed recording, or values a sensor cannot give.
        UsageError: a CSV without a rate, an unknown kind or suffix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".wav", ".csv", ".tfps"):
        raise UsageError(f"{path} is not a .wav, .csv or .tfps recording", "Play a WAV (audio) or a CSV (IMU/ADC).")
    raw = read_regular(path, "Sensor recording", MAX_SOURCE_BYTES[suffix], DataError)
    if suffix == ".tfps":
        return decode_played(raw, str(path))
    got = decode_sample(raw, suffix[1:], str(path))
    if suffix == ".wav":
        if got.data.shape[1] != 1:
            raise DataError(f"{path} has {got.data.shape[1]} audio channels; a played microphone is mono", _MONO)
        if not float(got.sample_rate).is_integer() or not 1 <= got.sample_rate <= MAX_RATE_HZ:
            raise DataError(f"{path} has a sample rate of {got.sample_rate} Hz", _MONO)
        return Played(got.data.astype(np.int16), KINDS["audio"], int(got.sample_rate))
    kind = kind or "imu"
    if kind not in ("imu", "adc"):
        raise UsageError(f"A CSV recording plays as an imu or adc sensor, not {kind[:20]!r}", "Use imu or adc.")
    if not 1 <= rate_hz <= MAX_RATE_HZ:
        raise UsageError(f"{path} is a CSV: its sample rate is not in the file", "Give it, e.g. ?sensor_rate=100.")
    data = got.data
    if data.dtype.kind != "i" or (data.size and (data.min() < -32768 or data.max() > 32767)):
        raise DataError(
            f"{path} holds values that are not int16 sensor counts",
            "Write the CSV as raw integer counts between -32768 and 32767 (an IMU's or ADC's registers).",
        )
    _check_shape(len(data), data.shape[1], rate_hz, str(path))
    return Played(data.astype(np.int16), KINDS[kind], int(rate_hz))


_MONO = "Convert it to mono 16-bit PCM at a whole rate: sox IN.wav -c 1 -b 16 -r 16000 OUT.wav"


def perturb(played: Played, p: Perturb) -> Played:
    """`played` with gain, offset, noise and dropouts applied (the same output for the same seed)."""
    if not p.active:
        return played
    rng = np.random.default_rng(p.seed)
    x = played.data.astype(np.float64) * p.gain + p.offset
    if p.noise > 0:
        x += rng.normal(0.0, p.noise, x.shape)
    out = np.clip(np.rint(x), -32768, 32767).astype(np.int16)
    if p.dropout_rate > 0:
        starts = np.flatnonzero(rng.random(len(out)) < p.dropout_rate)
        for s in starts.tolist():
            out[s : s + p.dropout_frames] = 0
    return Played(out, played.kind, played.rate_hz)


def write_played(
    source: str | Path, out: str | Path, *, kind: str = "", rate_hz: int = 0, perturbation: Perturb | None = None
) -> Played:
    """Make the played file `out` from a WAV/CSV/played `source`; returns what it holds."""
    played = perturb(load_recording(source, kind=kind, rate_hz=rate_hz), perturbation or Perturb())
    Path(out).write_bytes(encode_played(played))
    return played


# -- sim:// URL options (checked by tinyflow.targets.sim; applied by machines/host.py and qemu.py) --
PACES = ("realtime", "fast")


def perturbation(params: dict[str, str]) -> Perturb:
    """The Perturb of checked sim:// options (sensor_gain, sensor_offset, sensor_noise, sensor_dropouts,
    sensor_seed)."""
    rate, _, frames = params.get("sensor_dropouts", "0").partition(":")
    return Perturb(
        gain=float(params.get("sensor_gain", 1.0)),
        offset=float(params.get("sensor_offset", 0.0)),
        noise=float(params.get("sensor_noise", 0.0)),
        dropout_rate=float(rate),
        dropout_frames=int(frames) if frames else DEFAULT_DROPOUT_FRAMES,
        seed=int(params.get("sensor_seed", 0)),
    )


def prepare_sensor(params: dict[str, str], folder: str | Path) -> list[str]:
    """The firmware's `--sensor PATH --sensor-pace P` arguments for a sim:// URL's sensor options,
    after writing the played file into `folder` (the run's temporary folder); [] without ?sensor=."""
    if "sensor" not in params:
        return []
    out = Path(folder) / "sensor.tfps"
    write_played(
        params["sensor"],
        out,
        kind=params.get("sensor_kind", ""),
        rate_hz=int(params.get("sensor_rate", 0)),
        perturbation=perturbation(params),
    )
    return ["--sensor", str(out), "--sensor-pace", params.get("sensor_pace", "realtime")]
