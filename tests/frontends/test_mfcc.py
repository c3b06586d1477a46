"""MFCC: the float reference is tf.signal's pipeline; the integer pipeline stays close to it on
realistic audio, and its C twin gives the same integers."""

from __future__ import annotations

import numpy as np
import pytest
from signals import clips

from tinyflow.frontends.config import MfccConfig
from tinyflow.frontends.mfcc import log2_q16, mfcc_features, mfcc_reference

T = np.arange(16000) / 16000


def _voiced(rng, amp):
    """A vowel-like clip: a 133 Hz pulse train through two formants, plus a 50 dB noise floor."""
    pulses = (np.arange(16000) % 120 == 0).astype(float)
    x = np.convolve(pulses, np.sin(2 * np.pi * 700 * T[:300]) * np.exp(-T[:300] * 300))[:16000]
    x += 0.3 * np.convolve(pulses, np.sin(2 * np.pi * 1800 * T[:300]) * np.exp(-T[:300] * 400))[:16000]
    x = x / np.abs(x).max() * amp + rng.normal(0, amp / 300, 16000)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def test_shape_is_mlperf_kws_49_by_10():
    assert mfcc_features(np.zeros(16000, dtype=np.int16)).shape == (49, 10)
    assert mfcc_reference(np.zeros(16000, dtype=np.int16)).shape == (49, 10)


def test_log2_error_is_below_6e_5():
    x = np.unique(np.geomspace(1, 2**60, 5000).astype(np.uint64))
    assert (
        np.abs(log2_q16(x) / 65536 - np.log2(x.astype(np.float64))).max() < 6e-5
    )  # measured 4.5e-5: Q16 steps and the table


@pytest.mark.parametrize("amp", [1, 30, 1000, 30000])
def test_fixed_point_error_on_noise(amp):
    audio = np.random.default_rng(amp).integers(-amp, amp + 1, 16000).astype(np.int16)
    err = np.abs(mfcc_features(audio) / 256 - mfcc_reference(audio))
    assert err.max() < 0.05 and err.mean() < 0.01


@pytest.mark.parametrize("amp", [300, 8000])
def test_fixed_point_error_on_voiced_audio(amp):
    audio = _voiced(np.random.default_rng(amp), amp)
    err = np.abs(mfcc_features(audio) / 256 - mfcc_reference(audio))
    assert err.max() < 0.25 and err.mean() < 0.05


@pytest.mark.tf
def test_float_reference_is_tf_signal():
    import tensorflow as tf

    audio = _voiced(np.random.default_rng(0), 5000)
    signal = tf.constant(audio.astype(np.float32) / 32768.0)
    stft = tf.signal.stft(signal, frame_length=480, frame_step=320, fft_length=None, window_fn=tf.signal.hann_window)
    matrix = tf.signal.linear_to_mel_weight_matrix(40, stft.shape[-1], 16000, 20.0, 4000.0)
    log_mel = tf.math.log(tf.tensordot(tf.abs(stft), matrix, 1) + 1e-6)
    expected = tf.signal.mfccs_from_log_mel_spectrograms(log_mel)[..., :10].numpy()
    assert np.abs(mfcc_reference(audio) - expected).max() < 2e-3


@pytest.mark.firmware
def test_c_twin_equals_numpy():
    from c_twin import build_twin, run_twin

    from tinyflow.export.frontend_tables import render_mfcc

    for config in (MfccConfig(), MfccConfig(num_mel_bins=32, num_mfcc=13, lower_hz=60.0, out_frac_bits=6)):
        exe = build_twin("mfcc", render_mfcc(config))
        for audio in clips(30, seed=config.num_mfcc) + [_voiced(np.random.default_rng(1), 3000)]:
            expected = mfcc_features(audio, config)
            frames, out = run_twin(exe, "mfcc", audio)
            got = np.frombuffer(out, dtype="<i2").reshape(frames, config.num_mfcc)
            assert got.shape == expected.shape and np.array_equal(got, expected)
