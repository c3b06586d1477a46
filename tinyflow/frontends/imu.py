"""IMU features in integers: overlapping windows, per-axis Q15 scaling, then per axis the selected
features (RMS, zero crossings, FFT magnitude bins), so host and device agree exactly.

Per window and axis: s = clamp((x * scale_q15) >> 15) to int16; the window mean m = floor(sum / N)
is removed (c = s - m). RMS = rounded sqrt(floor(sum(c^2) / N)); zero crossings = sign changes of
c; FFT bins 1..fft_bins = |DFT(c)| approximated by the block-scaled KISS int16 FFT:
(sqrt(re^2 + im^2) << log2 N) >> shift, where shift scales the window's peak into int16 range.
Output: int32 [windows, axes * features_per_axis], axis-major, features in ("rms", "zero_crossings",
"fft") order as selected.
"""

from __future__ import annotations

import numpy as np

from tinyflow.errors import DataError
from tinyflow.frontends.config import IMU_FEATURES, ImuConfig, validate
from tinyflow.frontends.fixed import isqrt_rounded, msb, rfft_q15


def features_per_axis(config: ImuConfig) -> int:
    """How many int32 values each axis contributes per window."""
    return (
        ("rms" in config.features)
        + ("zero_crossings" in config.features)
        + config.fft_bins * ("fft" in config.features)
    )


def window_count(num_samples: int, config: ImuConfig) -> int:
    return 0 if num_samples < config.window else (num_samples - config.window) // config.step + 1


def imu_features(samples: np.ndarray, config: ImuConfig | None = None) -> np.ndarray:
    """int32 [windows, axes * features_per_axis] of int16 samples [n, axes]."""
    config = config or ImuConfig()
    validate(config)
    samples = np.asarray(samples)
    if samples.dtype != np.int16 or samples.ndim != 2 or samples.shape[1] != config.axes:
        raise DataError(f"IMU features take int16 samples [n, {config.axes}], got {samples.dtype} {samples.shape}")
    n = window_count(len(samples), config)
    idx = np.arange(n)[:, None] * config.step + np.arange(config.window)[None, :]
    scale = np.asarray(config.scale_q15, dtype=np.int64)
    x = np.clip((samples.astype(np.int64)[idx] * scale) >> 15, -32768, 32767)  # [n, window, axes]
    log2n = config.window.bit_length() - 1
    centered = x - (x.sum(axis=1, keepdims=True) >> log2n)
    parts = []
    for name in IMU_FEATURES:  # fixed order, whatever order the configuration lists them in
        if name not in config.features:
            continue
        if name == "rms":
            sq = (centered * centered).sum(axis=1).astype(np.uint64) >> np.uint64(log2n)
            parts.append(isqrt_rounded(sq).astype(np.int64)[:, :, None])
        elif name == "zero_crossings":
            neg = centered < 0
            parts.append((neg[:, 1:] != neg[:, :-1]).sum(axis=1)[:, :, None])
        elif config.fft_bins:
            parts.append(_fft_bins(centered, config, log2n))
    out = np.concatenate(parts, axis=2) if parts else np.zeros((n, config.axes, 0), dtype=np.int64)
    return out.reshape(n, config.axes * features_per_axis(config)).astype(np.int32)


def _fft_bins(centered: np.ndarray, config: ImuConfig, log2n: int) -> np.ndarray:
    """[windows, axes, fft_bins] magnitudes of bins 1..fft_bins (block-scaled int16 FFT)."""
    c = np.clip(np.moveaxis(centered, 1, 2), -32768, 32767)  # [n, axes, window]
    peak = np.minimum(np.abs(c).max(axis=2, initial=0), 32767)
    shift = 15 - msb(peak.astype(np.uint64))
    scaled = (c << shift[..., None]).astype(np.int32)  # peak < 2**(15 - shift): stays in int16
    re, im = rfft_q15(scaled)
    re, im = re[..., 1 : config.fft_bins + 1].astype(np.int64), im[..., 1 : config.fft_bins + 1].astype(np.int64)
    mag = isqrt_rounded((re * re + im * im).astype(np.uint64)).astype(np.int64)
    return (mag << log2n) >> shift[..., None]
