"""Front end features -> the model's input tensor, exact in integers (the C twin is firmware/src/pipeline.c).

The features a front end returns (`raw_features`: micro_speech uint16, mfcc int16, imu int32) are
integers; what Keras trains on is `features_to_float`:

- micro_speech with int8_output: `features * 10 / 256` (micro_speech's training scale, features
  / 25.6); an int8 model then takes micro_speech's own conversion, `features_to_int8`;
- otherwise, per feature column c: `(features - input_mean[c]) * 2**-input_shift[c]` (empty = 0s).

A quantized model input (int8 / int16, scale s, zero point zp) takes
`clamp(zp + round(float / s))`, computed in integers as TFLM requantizes: per column d = f - mean
saturated to int32, then MultiplyByQuantizedMultiplier(d, M, k) with (M, k) =
QuantizeMultiplier(gain * 2**-shift / s) (gain 10/256 or 1), zero point added, clamped. The rule,
checked by the tests: it equals `clamp(zp + round(float / s))` computed in float64 to within 1 (the
Q31 multiplier and round-half-away differ from exact float rounding only at ties and in the last
bit). The C twin gets the same (M, k) per column from `column_plan`, so host and device agree bit
for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tinyflow.errors import DataError, UsageError
from tinyflow.frontends.config import FrontendConfig, ImuConfig, MicroSpeechConfig, feature_width

MICRO_SPEECH_GAIN = 10 / 256  # micro_speech trains on features / 25.6 (exact in float32: 5/128)
_INT32 = (-(2**31), 2**31 - 1)
PIPELINE_KINDS = {"micro_speech": 1, "mfcc": 2, "imu": 3}  # TINYFLOW_PIPELINE_* in pipeline.h
INT_RANGES = {"int8": (-128, 127), "int16": (-32768, 32767)}


@dataclass(frozen=True)
class ColumnPlan:
    """Per feature column constants of the mapping (what the generated C holds)."""

    mean: tuple[int, ...]  # int32
    shift: tuple[int, ...]  # 0..31
    gain: float  # 10/256 for micro_speech int8_output, else 1
    multiplier: tuple[int, ...]  # Q31, for a quantized model input (empty for float)
    exponent: tuple[int, ...]  # MultiplyByQuantizedMultiplier's shift (left > 0)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """tflite::QuantizeMultiplier: (Q31 multiplier, shift). The same as
    tinyflow.compile.ops.tflm_math's (a test holds them equal); frontends/ sits below compile/."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    scaled = abs(q) * (1 << 31)
    q_fixed = math.floor(scaled) + (scaled - math.floor(scaled) >= 0.5)  # halves away from zero
    q_fixed = -q_fixed if q < 0 else q_fixed
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return int(q_fixed), int(shift)


def raw_features(config: FrontendConfig, signal: np.ndarray) -> np.ndarray:
    """The front end's integer features of one signal, before any conversion for the model."""
    from tinyflow.frontends import imu, mfcc, micro_speech  # numpy-heavy modules, loaded on use

    if isinstance(config, MicroSpeechConfig):
        return micro_speech.micro_speech_features(np.asarray(signal), config)
    if isinstance(config, ImuConfig):
        return imu.imu_features(np.asarray(signal), config)
    return mfcc.mfcc_features(np.asarray(signal), config)


def uses_micro_int8(config: FrontendConfig) -> bool:
    """True when micro_speech's own scale (and int8 conversion) applies instead of mean/shift."""
    return isinstance(config, MicroSpeechConfig) and config.int8_output


def _columns(config: FrontendConfig) -> tuple[np.ndarray, np.ndarray]:
    width = feature_width(config)
    mean = np.asarray(config.input_mean or (0,) * width, dtype=np.int64)
    shift = np.asarray(config.input_shift or (0,) * width, dtype=np.int64)
    return mean, shift


def _checked_features(config: FrontendConfig, features: np.ndarray) -> np.ndarray:
    features = np.asarray(features)
    width = feature_width(config)
    if features.ndim < 1 or features.shape[-1] != width or features.dtype.kind not in "iu":
        raise DataError(
            f"{config.name} features must be integers [..., {width}], got {features.dtype} {features.shape}",
            "Pass raw_features(config, signal).",
        )
    if uses_micro_int8(config) and features.dtype == np.int8:  # compute_features' output, already converted
        raise DataError("micro_speech features are already int8", "Pass raw_features(config, signal) (uint16).")
    return features.astype(np.int64)


def features_to_float(config: FrontendConfig, features: np.ndarray) -> np.ndarray:
    """float32 model input as Keras trains on it (see the module docstring)."""
    f = _checked_features(config, features)
    if uses_micro_int8(config):
        return f.astype(np.float32) * np.float32(MICRO_SPEECH_GAIN)
    mean, shift = _columns(config)
    d = np.clip(f - mean, *_INT32)  # the C twin saturates to int32 too
    # 2**-shift is exact in float32, so the product rounds once, like C's (float)d * 2^-k.
    return d.astype(np.float32) * np.exp2(-shift).astype(np.float32)


def column_plan(config: FrontendConfig, scale: float | None = None) -> ColumnPlan:
    """The per-column constants; `scale` (the model input's) adds the quantized multipliers."""
    mean, shift = _columns(config)
    gain = MICRO_SPEECH_GAIN if uses_micro_int8(config) else 1.0
    multiplier: list[int] = []
    exponent: list[int] = []
    if scale is not None:
        if not np.isfinite(scale) or scale <= 0:
            raise DataError(f"The model input's scale must be positive, got {scale}")
        for k in shift.tolist():
            m, e = quantize_multiplier(gain * 2.0**-k / float(np.float32(scale)))
            if e > 31:  # the shifted int32 would not fit the int64 product
                raise DataError(f"The model input's scale {scale} is too small for {config.name} features")
            multiplier.append(m)
            exponent.append(e)
    return ColumnPlan(tuple(mean.tolist()), tuple(shift.tolist()), gain, tuple(multiplier), tuple(exponent))


def features_to_model_input(
    config: FrontendConfig, features: np.ndarray, dtype, scale: float = 1.0, zero_point: int = 0
) -> np.ndarray:
    """Exactly what the device writes into the model's input tensor (shape of `features`)."""
    name = np.dtype(dtype).name
    if name == "float32":
        return features_to_float(config, features)
    if name not in ("int8", "int16"):
        raise UsageError(f"A front end feeds float32, int8 or int16 model inputs, not {name}")
    f = _checked_features(config, features)
    if uses_micro_int8(config) and name == "int8":
        from tinyflow.frontends.micro_speech import features_to_int8

        return features_to_int8(f)
    plan = column_plan(config, scale)
    mean = np.asarray(plan.mean, dtype=np.int64)
    d = np.clip(f - mean, *_INT32)
    out = _requantize(d, np.asarray(plan.multiplier, dtype=np.int64), np.asarray(plan.exponent, dtype=np.int64))
    low, high = INT_RANGES[name]
    return np.clip(out + int(zero_point), low, high).astype(name)


def _requantize(x: np.ndarray, multiplier: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """MultiplyByQuantizedMultiplier per column, vectorised; the left shift saturates (see module doc)."""
    left = np.maximum(exponent, 0)
    right = np.maximum(-exponent, 0)
    # Saturating the shifted value (TFLM would wrap) keeps its sign and a magnitude past any clamp.
    x = np.clip(x << left, *_INT32)
    ab = x * multiplier  # |x|, |M| < 2**31: fits int64
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    n = ab + nudge
    high = np.where(n >= 0, n >> 31, -((-n) >> 31))  # SaturatingRoundingDoublingHighMul (truncating)
    mask = (np.int64(1) << right) - 1
    remainder = high & mask
    threshold = (mask >> 1) + (high < 0)
    return (high >> right) + (remainder > threshold)


def feature_rows(config: FrontendConfig, model_input_shape) -> int:
    """How many feature rows (frames or windows) one model input holds (batch axis excluded)."""
    shape = [int(v) for v in model_input_shape]
    count = int(np.prod(shape[1:] if len(shape) > 1 else shape))
    width = feature_width(config)
    if count <= 0 or count % width:
        raise UsageError(
            f"The model input {tuple(shape)} does not hold whole {config.name} rows of {width} features",
            "Check that the front end configuration is the one the model was trained with.",
        )
    return count // width


def raw_window_frames(config: FrontendConfig, model_input_shape) -> int:
    """Raw frames (samples of all channels) one inference consumes.

    The rows' span (window + (rows - 1) * step) rounded up to whole steps, so a one-second clip
    is one micro_speech window (49 frames -> 16,000 samples) and a stream advances by whole steps.
    """
    rows = feature_rows(config, model_input_shape)
    if isinstance(config, ImuConfig):
        window, step = config.window, config.step
    else:
        window = config.sample_rate * config.window_ms // 1000
        step = config.sample_rate * config.step_ms // 1000
    span = window + (rows - 1) * step
    return -(-span // step) * step


def raw_channels(config: FrontendConfig) -> int:
    """int16 values per raw frame: 1 for audio, the axes for IMU."""
    return config.axes if isinstance(config, ImuConfig) else 1


def raw_signal(config: FrontendConfig, window: np.ndarray) -> np.ndarray:
    """A raw window int16 [frames, channels] as its front end takes it: 1-D audio, or IMU [n, axes]."""
    window = np.asarray(window, dtype=np.int16)
    return window if isinstance(config, ImuConfig) else window.reshape(-1)


def raw_sample_rate(config: FrontendConfig) -> int:
    """The signal's rate in Hz (0 when the configuration does not say: IMU)."""
    return 0 if isinstance(config, ImuConfig) else config.sample_rate
