"""The TFLM micro frontend (TensorFlow's audio_microfrontend op) in integer numpy, bit for bit.

Stages, as tensorflow/lite/experimental/microfrontend/lib does them: Hann window (Q12), block
scaling to the window's peak, KISS FFT int16, power -> mel filterbank (Q12 weights and unweights,
uint64 sums), integer square root, noise reduction (Q14 smoothing), PCAN gain control (piecewise
quadratic gain table), log scale (log2 table). The tables are built once from the configuration
(`plan_micro_speech`: TensorFlow's float and double expressions, its libm through
tinyflow.frontends.libm) and the same numbers are emitted to C (tinyflow.export.frontend_tables), so
the firmware twin never computes a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from tinyflow.errors import DataError, UsageError
from tinyflow.frontends.config import MicroSpeechConfig, validate
from tinyflow.frontends.fixed import isqrt_rounded, msb, rfft_q15
from tinyflow.frontends.libm import cos, log1p, powf

WINDOW_BITS = 12
FILTERBANK_BITS = 12
NOISE_BITS = 14
PCAN_SNR_BITS = 12
PCAN_OUTPUT_BITS = 6
WDF_BITS = 32  # kWideDynamicFunctionBits
LOG_COEFF = 45426  # ln(2) in Q16
# log2(1 + x) - x over 128 segments, Q16 (the constants of TFLM's log_lut.c, a published table).
LOG_LUT = (
    (0, 224, 442, 654, 861, 1063, 1259, 1450, 1636, 1817, 1992, 2163, 2329, 2490, 2646, 2797, 2944, 3087, 3224)
    + (3358, 3487, 3611, 3732, 3848, 3960, 4068, 4172, 4272, 4368, 4460, 4549, 4633, 4714, 4791, 4864, 4934)
    + (5001, 5063, 5123, 5178, 5231, 5280, 5326, 5368, 5408, 5444, 5477, 5507, 5533, 5557, 5578, 5595, 5610)
    + (5622, 5631, 5637, 5640, 5641, 5638, 5633, 5626, 5615, 5602, 5586, 5568, 5547, 5524, 5498, 5470, 5439)
    + (5406, 5370, 5332, 5291, 5249, 5203, 5156, 5106, 5054, 5000, 4944, 4885, 4825, 4762, 4697, 4630, 4561)
    + (4490, 4416, 4341, 4264, 4184, 4103, 4020, 3935, 3848, 3759, 3668, 3575, 3481, 3384, 3286, 3186, 3084)
    + (2981, 2875, 2768, 2659, 2549, 2437, 2323, 2207, 2090, 1971, 1851, 1729, 1605, 1480, 1353, 1224, 1094)
    + (963, 830, 695, 559, 421, 282, 142, 0, 0)
)
INT8_DIV = 666  # int(25.6 * 26.0 + 0.5): micro_speech trained on features / 25.6, quantized over 0..26


@dataclass(frozen=True)
class MicroSpeechPlan:
    """Everything the per-frame computation needs, in integers (shared with the C twin)."""

    window_size: int
    step: int
    fft_size: int
    window: np.ndarray  # int16 [window_size], Q12 Hann
    weights: np.ndarray  # int16 [num_channels + 1, bins], dense Q12 (C gets the nonzero runs)
    unweights: np.ndarray  # int16 [num_channels + 1, bins]
    channel_starts: tuple[int, ...]  # first FFT bin of each of the num_channels + 1 bands
    channel_widths: tuple[int, ...]
    start_index: int
    end_index: int
    even_smoothing: int
    odd_smoothing: int
    min_signal_remaining: int
    smoothing_bits: int
    gain_lut: np.ndarray  # int16 [4 * WDF_BITS - 3]
    snr_shift: int
    enable_pcan: bool
    enable_log: bool
    scale_shift: int
    correction_bits: int
    int8_output: bool


def _f32(x) -> np.float32:
    return np.float32(x)


def _mel(freq) -> np.ndarray:
    """FreqToMel: float in, float out, computed in double (TensorFlow's filterbank_util.c)."""
    return (1127.0 * log1p(np.asarray(freq, dtype=np.float32).astype(np.float64) / 700.0)).astype(np.float32)


@lru_cache(maxsize=16)
def plan_micro_speech(config: MicroSpeechConfig) -> MicroSpeechPlan:
    """Build the integer tables for `config` as TensorFlow's *_util.c files do (cached; read-only)."""
    validate(config)
    size = config.window_ms * config.sample_rate // 1000
    step = config.step_ms * config.sample_rate // 1000
    # TensorFlow's window_util.c: float variables, double expressions (TFLM's copy uses cosf).
    arg = float(_f32(np.pi * 2.0 / float(_f32(size))))
    hann = (0.5 - 0.5 * cos(arg * (np.arange(size) + 0.5))).astype(np.float32)
    window = np.floor((hann * _f32(1 << WINDOW_BITS)).astype(np.float64) + 0.5).astype(np.int16)
    fft_size = 1 << int(size - 1).bit_length()
    weights, unweights, runs, (start, end) = _filterbank(config, fft_size // 2 + 1)
    correction = fft_size.bit_length() - 1 - FILTERBANK_BITS // 2
    input_bits, snr_shift = config.smoothing_bits - correction, config.gain_bits - correction - PCAN_SNR_BITS
    if config.enable_pcan and (input_bits < 0 or snr_shift < 0):
        raise UsageError(
            f"PCAN needs smoothing_bits >= {correction} and gain_bits >= {correction + PCAN_SNR_BITS} "
            f"for a {fft_size}-point FFT, got {config.smoothing_bits} and {config.gain_bits}"
        )
    for table in (window, weights, unweights):
        table.flags.writeable = False  # shared by every caller of the cached plan
    return MicroSpeechPlan(
        window_size=size,
        step=step,
        fft_size=fft_size,
        window=window,
        weights=weights,
        unweights=unweights,
        channel_starts=tuple(r[0] for r in runs),
        channel_widths=tuple(r[1] for r in runs),
        start_index=start,
        end_index=end,
        even_smoothing=int(_f32(config.even_smoothing) * _f32(1 << NOISE_BITS)),
        odd_smoothing=int(_f32(config.odd_smoothing) * _f32(1 << NOISE_BITS)),
        min_signal_remaining=int(_f32(config.min_signal_remaining) * _f32(1 << NOISE_BITS)),
        smoothing_bits=config.smoothing_bits,
        gain_lut=_gain_lut(config, input_bits),
        snr_shift=snr_shift,
        enable_pcan=config.enable_pcan,
        enable_log=config.enable_log,
        scale_shift=config.scale_shift,
        correction_bits=correction,
        int8_output=config.int8_output,
    )


def _filterbank(config: MicroSpeechConfig, spectrum: int) -> tuple[np.ndarray, np.ndarray, list, tuple[int, int]]:
    """Dense (channel+1, bin) weights: the padded sparse layout of filterbank_util.c only adds zeros."""
    channels = config.num_channels + 1
    mel_low, mel_high = _mel(config.lower_band_hz), _mel(config.upper_band_hz)
    spacing = (mel_high - mel_low) / _f32(channels)
    centers = mel_low + spacing * (np.arange(channels, dtype=np.float32) + _f32(1))
    hz_per_bin = _f32(0.5 * config.sample_rate / float(_f32(spectrum) - _f32(1)))
    start = int(1.5 + float(_f32(config.lower_band_hz) / hz_per_bin))
    weights = np.zeros((channels, spectrum), dtype=np.int16)
    unweights = np.zeros_like(weights)
    freq, end, runs = start, 0, []
    for chan in range(channels):
        first = freq
        while freq < spectrum and _mel(_f32(freq) * hz_per_bin) <= centers[chan]:
            freq += 1
        denom = mel_low if chan == 0 else centers[chan - 1]
        for f in range(first, freq):
            w = (centers[chan] - _mel(_f32(f) * hz_per_bin)) / (centers[chan] - denom)
            weights[chan, f] = np.floor(float(w * _f32(1 << FILTERBANK_BITS)) + 0.5)
            unweights[chan, f] = np.floor((1.0 - float(w)) * (1 << FILTERBANK_BITS) + 0.5)
        end = max(end, freq)
        runs.append((first, freq - first))
    if end >= spectrum:
        raise UsageError(f"Filterbank end index {end} is above the spectrum size {spectrum}", "Lower upper_band_hz.")
    return weights, unweights, runs, (start, end)


def _gain(config: MicroSpeechConfig, input_bits: int, x: int) -> int:
    xf = _f32(x) / _f32(1 << input_bits)
    gain = _f32(1 << config.gain_bits) * powf(xf + _f32(config.pcan_offset), -_f32(config.pcan_strength))
    return 32767 if gain > 32767 else int(np.int16(np.trunc(gain + _f32(0.5))))


def _gain_lut(config: MicroSpeechConfig, input_bits: int) -> np.ndarray:
    """PCAN's wide dynamic function: per power-of-two interval, y0 and two quadratic coefficients."""
    lut = np.zeros(4 * WDF_BITS - 3, dtype=np.int16)
    if not config.enable_pcan:
        lut.flags.writeable = False
        return lut
    lut[0], lut[1] = _gain(config, input_bits, 0), _gain(config, input_bits, 1)
    for interval in range(2, WDF_BITS + 1):
        x0 = 1 << (interval - 1)
        x1 = x0 + (x0 >> 1)
        x2 = x0 + (x0 - 1) if interval == WDF_BITS else 2 * x0
        y0, y1, y2 = (_gain(config, input_bits, x) for x in (x0, x1, x2))
        a1 = 4 * (y1 - y0) - (y2 - y0)
        base = 4 * interval - 6
        lut[base : base + 3] = np.array([y0, a1, (y2 - y0) - a1]).astype(np.int16)
    lut.flags.writeable = False
    return lut


def frame_count(num_samples: int, plan: MicroSpeechPlan) -> int:
    """Frames the op emits for `num_samples` samples (a frame per full window, then one per step)."""
    return 0 if num_samples < plan.window_size else (num_samples - plan.window_size) // plan.step + 1


def filterbank_frames(audio: np.ndarray, plan: MicroSpeechPlan) -> tuple[np.ndarray, np.ndarray]:
    """Window, FFT, filterbank and square root of every frame (stateless stages, all frames at once).

    Returns (uint32 [frames, channels] scaled filterbank, the per-frame FFT input shift)."""
    n = frame_count(len(audio), plan)
    idx = np.arange(n)[:, None] * plan.step + np.arange(plan.window_size)[None, :]
    frames = audio.astype(np.int32)[idx]
    windowed = ((frames * plan.window.astype(np.int32)) >> WINDOW_BITS).astype(np.int16)
    peak = np.abs(windowed).astype(np.int16).max(axis=1, initial=0)  # |-32768| wraps and is ignored, as in C
    shift = 15 - msb(np.maximum(peak, 0).astype(np.uint64))
    scaled = (windowed.astype(np.uint16).astype(np.int64) << shift[:, None]).astype(np.uint16).astype(np.int16)
    fft_in = np.zeros((n, plan.fft_size), dtype=np.int32)
    fft_in[:, : plan.window_size] = scaled
    re, im = rfft_q15(fft_in)
    lo, hi = plan.start_index, plan.end_index
    energy = (re[:, lo:hi].astype(np.int64) ** 2 + im[:, lo:hi].astype(np.int64) ** 2).astype(np.int32)
    energy = energy.astype(np.int64).view(np.uint64)  # int32 -> uint64 sign-extends, as the C cast does
    w = plan.weights[:, lo:hi].astype(np.uint64)
    u = plan.unweights[:, lo:hi].astype(np.uint64)
    work = energy @ w[1:].T + energy @ u[:-1].T
    return (isqrt_rounded(work) >> shift[:, None].astype(np.uint64)) & np.uint64(0xFFFFFFFF), shift


def _wide_dynamic(x: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """PCAN's gain for noise estimates x (uint64 array holding uint32 values) -> int16 gains."""
    interval = msb(x)
    base = np.clip(4 * interval - 6, 0, len(lut) - 3)
    frac = np.where(interval < 11, x << np.clip(11 - interval, 0, 63).astype(np.uint64), 0)
    frac = np.where(interval >= 11, x >> np.clip(interval - 11, 0, 63).astype(np.uint64), frac)
    frac = (frac & np.uint64(0x3FF)).astype(np.int64)
    lut64 = lut.astype(np.int64)
    result = (lut64[base + 2] * frac) >> 5
    result = _wrap32(result + _wrap32(lut64[base + 1] << 5))
    result = _wrap32(result * frac)
    result = ((result + (1 << 14)) >> 15) + lut64[base]
    small = x <= 2
    return np.where(small, lut64[np.minimum(x, 2).astype(np.int64)], result).astype(np.int16)


def _wrap32(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.int64).astype(np.int32).astype(np.int64)


def _log(x: np.ndarray, scale_shift: int) -> np.ndarray:
    """TFLM's integer natural log, scaled by 2**scale_shift (x > 1, uint64 holding uint32)."""
    integer = msb(x) - 1
    frac = (x.astype(np.int64) - (np.int64(1) << integer)).astype(np.int64)
    frac = np.where(integer < 16, frac << np.clip(16 - integer, 0, 63), frac >> np.clip(integer - 16, 0, 63))
    frac = _wrap32(frac)
    seg = frac >> 9
    lut = np.asarray(LOG_LUT, dtype=np.int64)
    c0, c1 = lut[seg], lut[seg + 1]
    rel = _wrap32((c1 - c0) * (frac - (seg << 9))) >> 16
    log2 = ((integer << 16) + frac + c0 + rel) & 0xFFFFFFFF
    loge = ((LOG_COEFF * log2 + 32768) >> 16) & 0xFFFFFFFF
    return ((((loge << scale_shift) & 0xFFFFFFFF) + 32768) & 0xFFFFFFFF) >> 16


def micro_speech_features(audio: np.ndarray, config: MicroSpeechConfig | None = None) -> np.ndarray:
    """uint16 [frames, channels] features of int16 `audio`, as audio_microfrontend(out_type=uint16)."""
    plan = plan_micro_speech(config or MicroSpeechConfig())
    return run_plan(np.asarray(audio), plan)


def run_plan(audio: np.ndarray, plan: MicroSpeechPlan) -> np.ndarray:
    """The whole pipeline from a plan; the noise estimate starts at zero (a fresh FrontendState)."""
    if audio.ndim != 1 or audio.dtype != np.int16:
        raise DataError(f"The micro frontend takes 1-D int16 audio, got {audio.dtype} {audio.shape}")
    fb, _ = filterbank_frames(audio, plan)
    channels = fb.shape[1]
    smoothing = np.where(np.arange(channels) % 2 == 0, plan.even_smoothing, plan.odd_smoothing).astype(np.uint64)
    one_minus = np.uint64(1 << NOISE_BITS) - smoothing
    estimate = np.zeros(channels, dtype=np.uint64)
    out = np.zeros(fb.shape, dtype=np.uint16)
    m32, sb = np.uint64(0xFFFFFFFF), np.uint64(plan.smoothing_bits)
    for t in range(fb.shape[0]):  # the noise estimate carries from frame to frame
        signal = fb[t]
        up = (signal << sb) & m32
        estimate = ((up * smoothing + estimate * one_minus) >> np.uint64(NOISE_BITS)) & m32
        floor = (signal * np.uint64(plan.min_signal_remaining)) >> np.uint64(NOISE_BITS)
        sub = (up - np.minimum(estimate, up)) >> sb
        signal = np.maximum(sub, floor) & m32
        if plan.enable_pcan:
            gain = _wide_dynamic(estimate, plan.gain_lut).astype(np.int64).astype(np.uint32).astype(np.uint64)
            snr = ((signal * gain) >> np.uint64(plan.snr_shift)) & m32
            signal = np.where(
                snr < (2 << PCAN_SNR_BITS),
                (snr * snr) >> np.uint64(2 + 2 * PCAN_SNR_BITS - PCAN_OUTPUT_BITS),
                ((snr >> np.uint64(PCAN_SNR_BITS - PCAN_OUTPUT_BITS)) - np.uint64(1 << PCAN_OUTPUT_BITS)) & m32,
            )
        out[t] = _log_scale(signal, plan)
    return out


def _log_scale(signal: np.ndarray, plan: MicroSpeechPlan) -> np.ndarray:
    value = signal
    if plan.enable_log:  # the correction shift applies only with the log, as in LogScaleApply
        c = plan.correction_bits
        value = value >> np.uint64(-c) if c < 0 else (value << np.uint64(c)) & np.uint64(0xFFFFFFFF)
        big = value > 1
        value = np.where(big, _log(np.where(big, value, 2), plan.scale_shift).astype(np.uint64), 0)
    return np.minimum(value, 0xFFFF).astype(np.uint16)


def features_to_int8(features: np.ndarray) -> np.ndarray:
    """micro_speech's input conversion: (f * 256 + 333) / 666 - 128, clamped to int8."""
    value = (np.asarray(features, dtype=np.int32) * 256 + INT8_DIV // 2) // INT8_DIV - 128
    return np.clip(value, -128, 127).astype(np.int8)
