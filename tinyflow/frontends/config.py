"""Front end configurations: frozen dataclasses that travel with a model as `<model>.frontend.json`.

The sidecar is untrusted input: it is read with a size ceiling, every field is checked for type
and range, and unknown keys are refused, so a bad file fails here with a message rather than as
a wrong feature deep in training or on a device.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from tinyflow.errors import DataError, UsageError
from tinyflow.inputs import read_regular
from tinyflow.outputs import atomic_write

SIDECAR_SUFFIX = ".frontend.json"
SIDECAR_LIMIT = 64 * 1024  # a configuration is a few hundred bytes
FORMAT_VERSION = 1


@dataclass(frozen=True)
class MicroSpeechConfig:
    """TFLM micro frontend (audio_microfrontend op) settings; defaults are micro_speech's."""

    sample_rate: int = 16000
    window_ms: int = 30
    step_ms: int = 20
    num_channels: int = 40
    lower_band_hz: float = 125.0
    upper_band_hz: float = 7500.0
    smoothing_bits: int = 10
    even_smoothing: float = 0.025
    odd_smoothing: float = 0.06
    min_signal_remaining: float = 0.05
    enable_pcan: bool = True
    pcan_strength: float = 0.95
    pcan_offset: float = 80.0
    gain_bits: int = 21
    enable_log: bool = True
    scale_shift: int = 6
    int8_output: bool = True  # micro_speech's (feature * 256 + 333) / 666 - 128 conversion
    input_mean: tuple[int, ...] = ()  # per channel, with input_shift: see tinyflow.frontends.mapping
    input_shift: tuple[int, ...] = ()
    class_names: tuple[str, ...] = ()  # the model's outputs in order (never in generated C)

    name = "micro_speech"


@dataclass(frozen=True)
class MfccConfig:
    """MFCC as MLPerf Tiny KWS computes it (tf.signal: Hann STFT, HTK mel, log, DCT-II ortho)."""

    sample_rate: int = 16000
    window_ms: int = 30
    step_ms: int = 20
    num_mel_bins: int = 40
    num_mfcc: int = 10
    lower_hz: float = 20.0
    upper_hz: float = 4000.0
    out_frac_bits: int = 8  # output int16 = round(mfcc * 2**out_frac_bits)
    input_mean: tuple[int, ...] = ()  # per coefficient, with input_shift: see tinyflow.frontends.mapping
    input_shift: tuple[int, ...] = ()
    class_names: tuple[str, ...] = ()  # the model's outputs in order (never in generated C)

    name = "mfcc"


@dataclass(frozen=True)
class ImuConfig:
    """Windows of int16 multi-axis samples -> integer features per axis."""

    axes: int = 3
    window: int = 128  # samples per window
    step: int = 64  # samples between windows (overlap = window - step)
    scale_q15: tuple[int, ...] = (32767, 32767, 32767)  # per-axis gain, Q15
    features: tuple[str, ...] = ("rms", "zero_crossings", "fft")
    fft_bins: int = 8  # magnitude bins 1..fft_bins of a window-point real FFT
    input_mean: tuple[int, ...] = ()  # per feature column, with input_shift: see tinyflow.frontends.mapping
    input_shift: tuple[int, ...] = ()
    class_names: tuple[str, ...] = ()  # the model's outputs in order (never in generated C)

    name = "imu"


FrontendConfig = MicroSpeechConfig | MfccConfig | ImuConfig
CONFIGS: dict[str, type] = {c.name: c for c in (MicroSpeechConfig, MfccConfig, ImuConfig)}
IMU_FEATURES = ("rms", "zero_crossings", "fft")
# Per feature column: model input = (feature - input_mean) * 2**-input_shift (empty = 0s).
_COLUMN_RANGES = {"input_mean": (-(2**31), 2**31 - 1), "input_shift": (0, 31)}
MAX_COLUMNS = 16 * (2 + 512)  # the widest feature row: 16 IMU axes x (RMS, crossings, 512 bins)
MAX_CLASS_NAMES = 1000
MAX_NAME_CHARS = 64
_NAMES_HINT = "Give at most 1,000 class names of 1-64 printable characters, each once, in the model's output order."

# (low, high) for every numeric field; the C twins size their static buffers for these maxima.
_RANGES = {
    "sample_rate": (4000, 48000),
    "window_ms": (4, 64),
    "step_ms": (1, 64),
    "num_channels": (1, 64),
    "lower_band_hz": (0.0, 24000.0),
    "upper_band_hz": (1.0, 24000.0),
    "smoothing_bits": (0, 16),
    "even_smoothing": (0.0, 1.0),
    "odd_smoothing": (0.0, 1.0),
    "min_signal_remaining": (0.0, 1.0),
    "pcan_strength": (0.0, 4.0),
    "pcan_offset": (0.0, 1e6),
    "gain_bits": (0, 30),
    "scale_shift": (0, 16),
    "num_mel_bins": (1, 64),
    "num_mfcc": (1, 64),
    "lower_hz": (0.0, 24000.0),
    "upper_hz": (1.0, 24000.0),
    "out_frac_bits": (0, 12),
    "axes": (1, 16),
    "window": (4, 1024),
    "step": (1, 1024),
    "fft_bins": (0, 512),
}


def config_to_dict(config: FrontendConfig, class_names: bool = True) -> dict:
    """The JSON-ready form: {"frontend": name, "version": 1, <fields>}.

    `class_names` False leaves the names out (what the front end computes: generated C, input
    identities); empty names are always left out, so a sidecar without them reads as before."""
    values = _plain(asdict(config))
    if not class_names or not config.class_names:
        del values["class_names"]
    return {"frontend": config.name, "version": FORMAT_VERSION, **values}


def config_from_dict(data: object) -> FrontendConfig:
    """Check and build a configuration from parsed JSON; DataError says which field is wrong."""
    if not isinstance(data, dict):
        raise DataError(f"A front end configuration must be a JSON object, got {type(data).__name__}")
    name = data.get("frontend")
    if not isinstance(name, str) or name not in CONFIGS:  # a list or object is not hashable
        raise DataError(f"Unknown front end {name!r:.80}", f"Use one of: {', '.join(CONFIGS)}.")
    if data.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        raise DataError(f"Front end configuration version {data.get('version')!r} is not supported")
    cls = CONFIGS[name]
    known = {f.name: f for f in fields(cls)}
    extra = sorted(set(data) - set(known) - {"frontend", "version"})
    if extra:
        raise DataError(f"Unknown {name} front end setting(s): {', '.join(map(str, extra))}")
    values = {key: _checked(key, data[key], known[key].default) for key in known if key in data}
    config = cls(**values)
    validate(config)
    return config


def _checked(key: str, value: object, default: object) -> object:
    if key == "class_names":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise DataError(f"Front end setting class_names must be a list of names, got {value!r:.80}", _NAMES_HINT)
        return check_class_names(tuple(value), DataError)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise DataError(f"Front end setting {key} must be true or false, got {value!r}")
        return value
    if isinstance(default, tuple):
        limit = MAX_COLUMNS if key in _COLUMN_RANGES else 64
        if not isinstance(value, list) or len(value) > limit:
            raise DataError(f"Front end setting {key} must be a list of at most {limit} items, got {value!r:.80}")
        kind = type(default[0]) if default else int
        if not all(isinstance(v, kind) and not isinstance(v, bool) for v in value):
            raise DataError(f"Front end setting {key} must hold {kind.__name__} values, got {value!r:.80}")
        low, high = _COLUMN_RANGES.get(key, (None, None))
        if low is not None and not all(low <= v <= high for v in value):
            raise DataError(f"Front end setting {key} must hold values in {low}..{high}, got {value!r:.80}")
        return tuple(value)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, int) and not isinstance(value, int):
        ok = False
    if not ok:
        kind = "an integer" if isinstance(default, int) else "a number"
        raise DataError(f"Front end setting {key} must be {kind}, got {value!r:.80}")
    low, high = _RANGES[key]
    if not low <= value <= high:
        raise DataError(f"Front end setting {key}={value} is outside {low}..{high}")
    return value


def validate(config: FrontendConfig) -> None:
    """Cross-field checks (each field's own range is checked when read)."""
    if isinstance(config, MicroSpeechConfig):
        if not config.lower_band_hz < config.upper_band_hz <= config.sample_rate / 2:
            raise UsageError(
                f"Band {config.lower_band_hz}-{config.upper_band_hz} Hz does not fit {config.sample_rate} Hz",
                "Keep lower_band_hz < upper_band_hz <= sample_rate / 2 in the front end settings.",
            )
        if config.step_ms > config.window_ms or config.sample_rate * config.window_ms // 1000 > 1024:
            raise UsageError(
                "The micro frontend needs step <= window and at most 1024 samples per window",
                "Fix the front end settings (the <model>.frontend.json sidecar; docs/frontends.md).",
            )
    elif isinstance(config, MfccConfig):
        if not config.lower_hz < config.upper_hz <= config.sample_rate / 2 or config.num_mfcc > config.num_mel_bins:
            raise UsageError(
                "MFCC needs lower_hz < upper_hz <= sample_rate/2 and num_mfcc <= num_mel_bins",
                "Fix the front end settings (the <model>.frontend.json sidecar; docs/frontends.md).",
            )
        if config.sample_rate * config.window_ms // 1000 > 1024 or config.step_ms > config.window_ms:
            raise UsageError(
                "MFCC needs step <= window and at most 1024 samples per window",
                "Fix the front end settings (the <model>.frontend.json sidecar; docs/frontends.md).",
            )
    elif isinstance(config, ImuConfig):
        if len(config.scale_q15) != config.axes or not all(-32768 <= s <= 32767 for s in config.scale_q15):
            raise UsageError(f"scale_q15 needs {config.axes} values in -32768..32767, got {config.scale_q15}")
        if config.window & (config.window - 1) or config.step > config.window:
            raise UsageError(
                f"IMU window must be a power of two >= step, got window {config.window} step {config.step}"
            )
        if not config.features or set(config.features) - set(IMU_FEATURES) or config.fft_bins > config.window // 2:
            raise UsageError(f"IMU features are {', '.join(IMU_FEATURES)} with fft_bins <= window/2")
    _validate_columns(config)
    check_class_names(config.class_names)


def check_class_names(names: tuple[str, ...], error: type = UsageError, hint: str = _NAMES_HINT) -> tuple[str, ...]:
    """`names` if they can name a model's outputs: at most 1,000, each 1-64 printable characters
    (no control, format or bidi characters: they are shown in terminals and reports), each once.

    Raises:
        `error` (UsageError by default; DataError for a sidecar or a dataset's labels).
    """
    if len(names) > MAX_CLASS_NAMES:
        raise error(f"class_names holds {len(names):,} names, at most {MAX_CLASS_NAMES:,} are allowed", hint)
    seen: set[str] = set()
    for name in names:
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME_CHARS or not name.isprintable():
            raise error(f"Class name {name!r:.80} is not 1-64 printable characters", hint)
        if name in seen:  # two outputs under one name would merge their counts
            raise error(f"class_names names {name!r:.80} twice", hint)
        seen.add(name)
    return tuple(names)


def resolve_class_names(stored: FrontendConfig | None, given: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The names of a model's outputs: `given` (--class-names), else its sidecar's (`stored`).

    The rule of --frontend against the sidecar (tinyflow.workflows.device.resolve_frontend):
    both given and different is a usage error, since one of them describes another model.

    Raises:
        UsageError: `given` differs from the sidecar's names.
    """
    have = stored.class_names if stored is not None else ()
    given = tuple(given)
    if given and have and given != have:
        raise UsageError(
            f"--class-names {_joined(given)} conflict with the model's sidecar, which names {_joined(have)}",
            "Drop --class-names (the sidecar's are used), or delete the sidecar.",
        )
    return given or have


def _joined(names: tuple[str, ...]) -> str:
    text = ",".join(names)
    return text if len(text) <= 200 else text[:197] + "..."


def feature_width(config: FrontendConfig) -> int:
    """Values per feature row (the last axis of the front end's output)."""
    if isinstance(config, MicroSpeechConfig):
        return config.num_channels
    if isinstance(config, MfccConfig):
        return config.num_mfcc
    per_axis = ("rms" in config.features) + ("zero_crossings" in config.features)
    return config.axes * (per_axis + config.fft_bins * ("fft" in config.features))


def _validate_columns(config: FrontendConfig) -> None:
    """input_mean / input_shift: one value per feature column or none; in range (also when built in code)."""
    width = feature_width(config)
    for key, (low, high) in _COLUMN_RANGES.items():
        values = getattr(config, key)
        if values and len(values) != width:
            raise UsageError(f"{key} needs {width} values (one per feature column) or none, got {len(values)}")
        if not all(isinstance(v, int) and not isinstance(v, bool) and low <= v <= high for v in values):
            raise UsageError(f"{key} values must be integers in {low}..{high}")
    if isinstance(config, MicroSpeechConfig) and config.int8_output and (config.input_mean or config.input_shift):
        raise UsageError(
            "input_mean/input_shift do not apply with int8_output (micro_speech's own scale)",
            "Set int8_output to false to use them.",
        )


def sidecar_path(model: str | os.PathLike) -> Path:
    """Where a model's front end configuration lives: model.tflite -> model.tflite.frontend.json."""
    return Path(f"{os.fspath(model)}{SIDECAR_SUFFIX}")


def write_sidecar(model: str | os.PathLike, config: FrontendConfig) -> Path:
    """Write the configuration next to the model (atomically); returns its path."""
    path = sidecar_path(model)
    atomic_write(path, (json.dumps(config_to_dict(config), indent=2, sort_keys=True) + "\n").encode())
    return path


def read_sidecar(model: str | os.PathLike) -> FrontendConfig | None:
    """The configuration stored next to `model`, or None when there is none."""
    path = sidecar_path(model)
    if not path.exists():
        return None
    raw = read_regular(path, "front end configuration", SIDECAR_LIMIT, DataError)
    try:
        data = json.loads(raw.decode("utf-8"))
    # ValueError: json's own errors and ints past Python's 4300-digit conversion limit
    except (ValueError, RecursionError) as exc:
        raise DataError(f"{path.name} is not valid JSON ({str(exc)[:120]})", "Rewrite it or delete it.") from exc
    return config_from_dict(data)


def _plain(values: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
