"""MFCC as MLPerf Tiny's KWS DS-CNN is trained on, in floats (the reference) and in integers.

Reference (float64, tf.signal's definitions): int16 / 32768, periodic Hann frames (30 ms / 20 ms),
|rfft| over 512 points, the HTK mel matrix of tf.signal.linear_to_mel_weight_matrix (40 bands,
20-4000 Hz), log(mel + 1e-6), DCT-II scaled by 1/sqrt(2 * bands), first num_mfcc coefficients.

Fixed point (the device's and training's pipeline, exact between the two): the int16 frame times
the Q15 window is an int32 product; it is shifted down by d, the fewest bits that fit its peak into
int16 (so quiet frames keep their precision), for the KISS int16 FFT; magnitudes sqrt(E << 16)
(Q8 of the FFT output); Q15 mel weights accumulate into uint64, which equals mel * 2**(44 - d);
its log2 in Q16 comes from the same 128-segment table as the micro frontend, with 1e-6 added as
the integer round(1e-6 * 2**(44 - d)); the DCT uses Q20 coefficients with ln 2 folded in. Output int16
[frames, num_mfcc] = round(mfcc * 2**out_frac_bits). Its error against the reference is measured
in tests/frontends/test_mfcc.py and docs/frontends.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from tinyflow.errors import DataError
from tinyflow.frontends.config import MfccConfig, validate
from tinyflow.frontends.fixed import isqrt_rounded, msb, rfft_q15
from tinyflow.frontends.micro_speech import LOG_LUT

MAG_BITS = 8  # magnitudes keep 8 fractional bits of the FFT output
DCT_BITS = 20
# mel = acc / 2**(ACC_BITS - d): Q15 weights, Q8 magnitudes, audio * window in Q30, kiss's 1/512.
ACC_BITS = 15 + MAG_BITS + 30 - 9
MAX_DOWN = 16  # |int16 * Q15| < 2**31: at most 16 bits to drop


@dataclass(frozen=True)
class MfccPlan:
    window_size: int
    step: int
    fft_size: int
    window: np.ndarray  # int16 [window_size], Q15 periodic Hann
    mel: np.ndarray  # int16 [num_mel, bins], Q15 (dense here; C gets the nonzero runs)
    band_starts: tuple[int, ...]
    band_widths: tuple[int, ...]
    eps: np.ndarray  # uint64 [MAX_DOWN + 1]: round(1e-6 * 2**(ACC_BITS - d))
    dct: np.ndarray  # int32 [num_mfcc, num_mel], Q20 with ln 2 folded in
    out_frac_bits: int


def _mel_scale(hz):
    return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)


def mel_matrix(config: MfccConfig, bins: int) -> np.ndarray:
    """tf.signal.linear_to_mel_weight_matrix in float64: [bins, num_mel_bins], bin 0 (DC) zero."""
    linear = _mel_scale(np.linspace(0.0, config.sample_rate / 2, bins)[1:])[:, None]
    edges = np.linspace(_mel_scale(config.lower_hz), _mel_scale(config.upper_hz), config.num_mel_bins + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    slopes = np.minimum((linear - lower) / (center - lower), (upper - linear) / (upper - center))
    return np.pad(np.maximum(0.0, slopes), [[1, 0], [0, 0]])


def dct_matrix(config: MfccConfig) -> np.ndarray:
    """[num_mfcc, num_mel]: tf.signal.dct type II (2 cos terms) times rsqrt(2 * num_mel)."""
    n = config.num_mel_bins
    k, j = np.arange(config.num_mfcc)[:, None], np.arange(n)[None, :]
    return 2.0 * np.cos(np.pi * k * (2 * j + 1) / (2 * n)) / np.sqrt(2.0 * n)


def _frames(audio: np.ndarray, size: int, step: int) -> np.ndarray:
    n = 0 if len(audio) < size else (len(audio) - size) // step + 1
    return np.arange(n)[:, None] * step + np.arange(size)[None, :]


def mfcc_reference(audio: np.ndarray, config: MfccConfig | None = None) -> np.ndarray:
    """float64 [frames, num_mfcc]: the float pipeline MLPerf Tiny's KWS trains on."""
    config = config or MfccConfig()
    size, step = config.window_ms * config.sample_rate // 1000, config.step_ms * config.sample_rate // 1000
    fft = 1 << int(size - 1).bit_length()
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(size) / size)
    frames = np.asarray(audio, dtype=np.float64)[_frames(audio, size, step)] / 32768.0
    mag = np.abs(np.fft.rfft(frames * hann, n=fft, axis=1))
    log_mel = np.log(mag @ mel_matrix(config, fft // 2 + 1) + 1e-6)
    return log_mel @ dct_matrix(config).T


@lru_cache(maxsize=16)
def plan_mfcc(config: MfccConfig) -> MfccPlan:
    """The integer tables for `config` (float64 maths, rounded once; the C twin gets the integers)."""
    validate(config)
    size, step = config.window_ms * config.sample_rate // 1000, config.step_ms * config.sample_rate // 1000
    fft = 1 << int(size - 1).bit_length()
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(size) / size)
    mel = np.round(mel_matrix(config, fft // 2 + 1).T * 32767).astype(np.int16)
    starts, widths = [], []
    for band in mel:
        nz = np.nonzero(band)[0]
        starts.append(int(nz[0]) if nz.size else 0)
        widths.append(int(nz[-1] - nz[0] + 1) if nz.size else 0)
    plan = MfccPlan(
        window_size=size,
        step=step,
        fft_size=fft,
        window=np.round(hann * 32767).astype(np.int16),
        mel=mel,
        band_starts=tuple(starts),
        band_widths=tuple(widths),
        eps=np.array([round(1e-6 * 2.0 ** (ACC_BITS - d)) for d in range(MAX_DOWN + 1)], dtype=np.uint64),
        dct=np.round(dct_matrix(config) * np.log(2.0) * (1 << DCT_BITS)).astype(np.int32),
        out_frac_bits=config.out_frac_bits,
    )
    for table in (plan.window, plan.mel, plan.eps, plan.dct):
        table.flags.writeable = False  # shared by every caller of the cached plan
    return plan


def log2_q16(x: np.ndarray) -> np.ndarray:
    """log2 of uint64 values >= 1 in Q16 (int64): the micro frontend's segment table, interpolated."""
    x = np.asarray(x, dtype=np.uint64)
    integer = msb(x) - 1
    up = np.clip(16 - integer, 0, 63).astype(np.uint64)
    down = np.clip(integer - 16, 0, 63).astype(np.uint64)
    norm = np.where(integer < 16, x << up, x >> down).astype(np.int64)  # in [2**16, 2**17)
    frac = norm - (1 << 16)
    seg = frac >> 9
    lut = np.asarray(LOG_LUT, dtype=np.int64)
    c0, c1 = lut[seg], lut[seg + 1]
    # Interpolate within the 512-wide segment (TFLM's own Log shifts by 16 here, an error of 3e-3).
    return (integer << 16) + frac + c0 + (((c1 - c0) * (frac - (seg << 9))) >> 9)


def mfcc_features(audio: np.ndarray, config: MfccConfig | None = None) -> np.ndarray:
    """int16 [frames, num_mfcc] = round(MFCC * 2**out_frac_bits), in integer arithmetic."""
    config = config or MfccConfig()
    plan = plan_mfcc(config)
    audio = np.asarray(audio)
    if audio.ndim != 1 or audio.dtype != np.int16:
        raise DataError(f"MFCC takes 1-D int16 audio, got {audio.dtype} {audio.shape}")
    frames = audio.astype(np.int64)[_frames(audio, plan.window_size, plan.step)]
    product = frames * plan.window
    down = np.maximum(msb(np.abs(product).max(axis=1, initial=0).astype(np.uint64)) - 15, 0)
    fft_in = np.zeros((len(frames), plan.fft_size), dtype=np.int32)
    fft_in[:, : plan.window_size] = product >> down[:, None]  # floor: the peak lands in int16
    re, im = rfft_q15(fft_in)
    energy = (re.astype(np.int64) ** 2 + im.astype(np.int64) ** 2).astype(np.uint64)
    mag = isqrt_rounded(energy << np.uint64(16))
    acc = mag @ plan.mel.T.astype(np.uint64) + plan.eps[down][:, None]
    log2 = log2_q16(acc) - ((ACC_BITS - down[:, None]) << 16)
    total = log2 @ plan.dct.T.astype(np.int64)  # Q36
    drop = 16 + DCT_BITS - plan.out_frac_bits
    return np.clip((total + (1 << (drop - 1))) >> drop, -32768, 32767).astype(np.int16)
