"""Training from raw signals: a front end's features turned into the Dataset a Keras model trains on.

numpy only (no TensorFlow). The same functions serve `train --frontend`, `prune` and `quantize` of
a model with a `<model>.frontend.json` sidecar, and `demo --task kws|har`, so a model is trained,
pruned, calibrated and measured on exactly the features the device computes:

    raw sample -> int16 signal (`signal_int16`) -> integer features (`mapping.raw_features`)
      -> float input (`mapping.features_to_float`, with the per-column mean/shift of `fit_columns`)

Raw samples come from tinyflow.data as float32: a store's WAV audio scaled to [-1, 1) (int16 /
32768), everything else as written. The rule is eval's (tinyflow.workflows.eval_data): audio from a
store is multiplied by 32768, other values are taken as they are, and either way the signal must
then be whole numbers in the int16 range: an IMU recording in physical units (m/s^2) is refused
rather than rounded into a few counts.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tinyflow.data import Dataset
from tinyflow.errors import DataError, UsageError
from tinyflow.frontends import CONFIGS, FrontendConfig, ImuConfig, MicroSpeechConfig, default_config
from tinyflow.frontends.config import check_class_names, feature_width
from tinyflow.frontends.mapping import features_to_float, raw_features

AUDIO_FULL_SCALE = 32768.0  # a store's WAV samples load as int16 / 32768 (tinyflow.data.store_dataset)
IMU_MAX_WINDOW = 128  # the IMU front end's default window; shorter recordings get a shorter one
_LABELS_HINT = "Rename the labels (the recordings' folder names) to 1-64 printable characters, at most 1,000 of them."


def frontend_for(name: str, ds: Dataset) -> FrontendConfig:
    """The default configuration of front end `name`, fitted to the shape of `ds`'s samples.

    Audio front ends keep their defaults (16 kHz); micro_speech's fixed int8 conversion is turned
    off so the model's int8 input takes its own calibrated scale through input_mean/input_shift.
    The IMU front end gets one axis per channel and the largest power-of-two window (at most 128)
    that fits twice in a recording, with half-window steps. `class_names` are `ds`'s labels in
    class-index order (the model's outputs).

    Raises:
        DataError: labels that cannot name outputs (tinyflow.frontends.config.check_class_names).
    """
    if name not in CONFIGS:
        raise UsageError(f"Unknown front end {name!r}", f"Use one of: {', '.join(CONFIGS)}.")
    # The labels in class-index order name the model's outputs; they travel in its sidecar.
    names = check_class_names(tuple(ds.class_names), DataError, _LABELS_HINT)
    config = dataclasses.replace(default_config(name), class_names=names)
    if isinstance(config, MicroSpeechConfig):
        # micro_speech's conversion assumes the corpus model's input scale (0.1016, zero point
        # -128); a model trained here gets another scale from calibration, so it must not be used.
        return dataclasses.replace(config, int8_output=False)
    if isinstance(config, ImuConfig):
        length, axes = _time_axes(ds)
        window = 1 << max(2, min(IMU_MAX_WINDOW, max(4, length // 2)).bit_length() - 1)
        if window > length:
            raise DataError(
                f"Dataset '{ds.name}' has recordings of {length} samples, too short for IMU windows",
                "Record or segment windows of at least 4 samples.",
            )
        return dataclasses.replace(
            config,
            axes=axes,
            scale_q15=(32767,) * axes,
            window=window,
            step=window // 2,
            fft_bins=min(config.fft_bins, window // 2),
        )
    return config


def _time_axes(ds: Dataset) -> tuple[int, int]:
    shape = ds.input_shape
    if len(shape) == 1:
        return shape[0], 1
    if len(shape) != 2:
        raise DataError(
            f"Dataset '{ds.name}' has samples of shape {shape}; a front end takes (time, channels) recordings",
            "Give a store of WAV or CSV recordings (tinyflow data import).",
        )
    return shape[0], shape[1]


def signal_scale(config: FrontendConfig, spec_kind: str) -> float:
    """What raw values are multiplied by to be the int16 signal: 32768 for a store's audio, else 1."""
    return AUDIO_FULL_SCALE if spec_kind == "store" and not isinstance(config, ImuConfig) else 1.0


def signal_int16(sample: np.ndarray, config: FrontendConfig, scale: float = 1.0) -> np.ndarray:
    """One raw sample (float32, (time,) or (time, channels)) times `scale` as the int16 signal the
    front end takes: audio [time], IMU [time, axes].

    Raises:
        DataError: audio with more than one channel, IMU with other than the configured axes,
            values that are not whole numbers within int16 once scaled.
    """
    x = np.asarray(sample, dtype=np.float64) * scale
    axes = config.axes if isinstance(config, ImuConfig) else 1
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != axes:
        raise DataError(
            f"The {config.name} front end takes [time, {axes}] signals, got samples of shape {tuple(x.shape)}",
            "Give mono WAV audio, or IMU CSV recordings with one column per configured axis.",
        )
    outside = x.size and (x.min() < -32768 or x.max() > 32767)
    if not np.all(np.isfinite(x)) or np.any(np.abs(x - np.rint(x)) > 1e-6) or outside:
        raise DataError(
            f"The {config.name} front end takes int16 signals, but the recordings hold fractions or values "
            "outside -32768..32767",
            "Store audio as 16-bit WAV and IMU data as sensor counts (round(value * LSB per unit)) in CSV.",
        )
    signal = np.rint(x).astype(np.int16)
    return signal if isinstance(config, ImuConfig) else signal[:, 0]


def raw_feature_stack(ds: Dataset, config: FrontendConfig, scale: float = 1.0) -> np.ndarray:
    """The integer features of every sample: [samples, rows, width] (uint16, int16 or int32)."""
    if len(ds) == 0:
        return np.zeros((0, 0, feature_width(config)), dtype=np.int32)
    out = [raw_features(config, signal_int16(x, config, scale)) for x in ds.x]
    if len(out[0]) == 0:
        raise DataError(
            f"Dataset '{ds.name}' has recordings too short for one {config.name} frame",
            "Give longer recordings (one second of 16 kHz audio gives micro_speech 49 frames).",
        )
    return np.stack(out)


def fit_columns(config: FrontendConfig, features: np.ndarray) -> FrontendConfig:
    """`config` with input_mean / input_shift chosen from training features [samples, rows, width].

    Per column: the rounded mean, and the power of two nearest the standard deviation, so each
    column reaches the model at about unit scale and the int8 input (one scale for all columns)
    keeps precision for the narrow ones too.
    """
    if isinstance(config, MicroSpeechConfig) and config.int8_output:
        return config  # micro_speech's own fixed scale; mean/shift do not apply
    flat = np.asarray(features, dtype=np.float64).reshape(-1, feature_width(config))
    if len(flat) == 0:
        raise DataError("No training features to fit the input scaling on", "Give training samples.")
    mean = np.round(flat.mean(axis=0))
    std = flat.std(axis=0)
    shift = np.where(std >= 1.0, np.round(np.log2(np.maximum(std, 1.0))), 0.0)
    return dataclasses.replace(
        config,
        input_mean=tuple(int(v) for v in np.clip(mean, -(2**31), 2**31 - 1)),
        input_shift=tuple(int(v) for v in np.clip(shift, 0, 31)),
    )


def featurize(ds: Dataset, config: FrontendConfig, scale: float = 1.0, features: np.ndarray | None = None) -> Dataset:
    """`ds` with x replaced by the model's float input [samples, rows, width]; labels, splits kept."""
    raw = raw_feature_stack(ds, config, scale) if features is None else features
    x = features_to_float(config, raw) if len(raw) else raw.astype(np.float32)
    return Dataset(x.astype(np.float32), ds.y, ds.task, list(ds.class_names), ds.name, ds.splits, ds.version)


def featurize_splits(splits, config: FrontendConfig, scale: float = 1.0, fit: bool = False):
    """(train, val, test) raw splits -> (config, featurized splits); `fit` picks mean/shift on train.

    `scale`: see signal_scale (32768 for a store's audio)."""
    tr, va, te = splits
    raw_tr = raw_feature_stack(tr, config, scale)
    if fit:
        config = fit_columns(config, raw_tr)
    return config, tuple(featurize(ds, config, scale, raw_tr if ds is tr else None) for ds in (tr, va, te))
