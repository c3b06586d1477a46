"""IMU features: what they compute (numpy) and that the C twin gives the same integers."""

from __future__ import annotations

import numpy as np
import pytest

from tinyflow.errors import DataError, UsageError
from tinyflow.frontends.config import ImuConfig
from tinyflow.frontends.imu import features_per_axis, imu_features, window_count


def _sine(n, period, amp, axes=3):
    t = np.arange(n)
    cols = [amp * np.sin(2 * np.pi * t / period + a) for a in range(axes)]
    return np.round(np.stack(cols, axis=1)).astype(np.int16)


def test_windows_overlap_by_window_minus_step():
    config = ImuConfig(window=64, step=16)
    assert window_count(63, config) == 0 and window_count(64, config) == 1 and window_count(64 + 16 * 5, config) == 6
    assert imu_features(_sine(200, 16, 1000), config).shape == (window_count(200, config), 3 * (2 + 8))


def test_rms_zero_crossings_and_fft_peak_of_a_sine():
    config = ImuConfig(window=128, step=128, fft_bins=16)
    f = imu_features(_sine(128, 16, 10000), config).reshape(1, 3, -1)[0]
    rms, zc, bins = f[:, 0], f[:, 1], f[:, 2:]
    assert np.all(np.abs(rms - 10000 / np.sqrt(2)) < 0.01 * 10000)  # a sine's RMS is amp / sqrt(2)
    assert np.all(np.abs(zc - 2 * 128 / 16) <= 1)  # two crossings per period
    assert np.all(np.argmax(bins, axis=1) == 128 // 16 - 1)  # bin 8 holds a period of 16 samples
    assert np.all(np.abs(bins[:, 7] - 10000 * 128 / 2) < 0.03 * 10000 * 64)  # |DFT| of a sine = amp N / 2


def test_per_axis_scaling_and_feature_selection():
    x = _sine(128, 32, 8000)
    full = imu_features(x, ImuConfig(window=128, step=128, features=("rms",)))
    half = imu_features(x, ImuConfig(window=128, step=128, features=("rms",), scale_q15=(16384, 32767, 0)))
    assert half[0, 0] == pytest.approx(full[0, 0] / 2, abs=2) and half[0, 1] == pytest.approx(full[0, 1], abs=2)
    assert half[0, 2] == 0
    only_zc = ImuConfig(window=128, step=128, features=("zero_crossings",))
    assert features_per_axis(only_zc) == 1 and imu_features(x, only_zc).shape == (1, 3)


def test_bad_input_and_settings_are_refused():
    with pytest.raises(DataError, match=r"int16 samples \[n, 3\]"):
        imu_features(np.zeros((10, 2), dtype=np.int16))
    with pytest.raises(UsageError, match="power of two"):
        imu_features(np.zeros((10, 3), dtype=np.int16), ImuConfig(window=100, step=50))
    with pytest.raises(UsageError, match="IMU features"):
        imu_features(np.zeros((10, 3), dtype=np.int16), ImuConfig(features=("mean",)))


CONFIGS = [
    ImuConfig(),
    ImuConfig(axes=6, window=64, step=48, scale_q15=(32767, 16384, 8192, -32768, 1, 20000), fft_bins=32),
    ImuConfig(axes=1, window=4, step=1, scale_q15=(32767,), features=("fft", "rms"), fft_bins=2),
    ImuConfig(axes=2, window=256, step=256, scale_q15=(3000, 32767), features=("zero_crossings",), fft_bins=0),
]


@pytest.mark.firmware
@pytest.mark.parametrize("config", CONFIGS, ids=["default", "six-axes", "tiny", "zc-only"])
def test_c_twin_equals_numpy(config):
    from c_twin import build_twin, run_twin

    from tinyflow.export.frontend_tables import render_imu

    exe = build_twin("imu", render_imu(config))
    rng = np.random.default_rng(config.window)
    for trial in range(25):
        n = int(rng.integers(0, 5 * config.window))
        amp = int(rng.choice([0, 3, 200, 32767]))
        x = rng.integers(-amp, amp + 1, (n, config.axes)).astype(np.int16)
        if trial % 3 == 1:
            x = _sine(n, rng.integers(2, 40), amp, config.axes) if n else x
        expected = imu_features(x, config)
        windows, out = run_twin(exe, "imu", x.ravel())
        got = np.frombuffer(out, dtype="<i4").reshape(windows, config.axes * features_per_axis(config))
        assert got.shape == expected.shape and np.array_equal(got, expected)
