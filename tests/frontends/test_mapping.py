"""Features -> model input: known values, the integer path against exact float rounding, windows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tinyflow.errors import DataError, UsageError
from tinyflow.frontends import ImuConfig, MfccConfig, MicroSpeechConfig, config_from_dict, config_to_dict
from tinyflow.frontends.mapping import (
    column_plan,
    feature_rows,
    features_to_float,
    features_to_model_input,
    raw_window_frames,
)
from tinyflow.frontends.micro_speech import features_to_int8

MFCC = MfccConfig(num_mfcc=3, input_mean=(10, -20, 0), input_shift=(0, 2, 5))


def test_known_values_float_and_int8():
    features = np.array([[10, -20, 0], [14, 0, 64], [-90, 380, 3200]], dtype=np.int16)
    expected = np.array([[0, 0, 0], [4, 5, 2], [-100, 100, 100]], dtype=np.float32)
    assert np.array_equal(features_to_float(MFCC, features), expected)
    # int8, scale 0.5, zero point 3: 3 + round(x / 0.5), clamped
    got = features_to_model_input(MFCC, features, "int8", 0.5, 3)
    assert got.dtype == np.int8
    assert got.tolist() == [[3, 3, 3], [11, 13, 7], [-128, 127, 127]]
    assert features_to_model_input(MFCC, features, np.float32).dtype == np.float32


def test_micro_speech_scale_and_own_int8_conversion():
    config = MicroSpeechConfig()
    features = np.arange(0, 40 * 3, dtype=np.uint16).reshape(3, 40) * 7
    assert np.array_equal(features_to_float(config, features), features.astype(np.float32) * np.float32(10 / 256))
    # an int8 model takes micro_speech's own conversion whatever its scale says
    got = features_to_model_input(config, features, "int8", 0.25, 5)
    assert np.array_equal(got, features_to_int8(features))
    # int16: the general rule on features / 25.6
    got16 = features_to_model_input(config, features, "int16", 0.01, 0)
    assert got16[1, 0] == round(280 * 10 / 256 / 0.01)
    with pytest.raises(DataError, match="already int8"):
        features_to_float(config, features_to_int8(features))


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_integer_path_equals_float_rounding_within_one(dtype):
    rng = np.random.default_rng(7)
    low, high = np.iinfo(dtype).min, np.iinfo(dtype).max
    equal = []
    for trial in range(200):
        width = int(rng.integers(1, 12))
        mean = tuple(int(v) for v in rng.integers(-(2**20), 2**20, width))
        shift = tuple(int(v) for v in rng.integers(0, 32, width))
        config = ImuConfig(axes=width, scale_q15=(1,) * width, features=("rms",), input_mean=mean, input_shift=shift)
        scale = float(np.float32(10 ** rng.uniform(-6, 3)))
        zp = int(rng.integers(low // 2, high // 2))
        features = rng.integers(-(2**31), 2**31, (16, width)).astype(np.int32)
        if trial % 2:  # values near the mean, where rounding matters most
            features = (np.asarray(mean) + rng.integers(-5000, 5000, (16, width))).astype(np.int32)
        got = features_to_model_input(config, features, dtype, scale, zp).astype(np.int64)
        exact = (features.astype(np.float64) - np.asarray(mean)) * np.exp2(-np.asarray(shift, dtype=float)) / scale
        ref = np.clip(np.round(exact) + zp, low, high)
        assert np.abs(got - ref).max() <= 1, (trial, scale, zp)
        equal.append((got == ref).mean())
    assert np.mean(equal) > 0.97  # off by one only near ties (Q31 multiplier, double rounding)


def test_column_plan_is_what_the_c_gets():
    plan = column_plan(MFCC, 0.5)
    assert plan.mean == (10, -20, 0) and plan.shift == (0, 2, 5)
    assert plan.multiplier == (1 << 30, 1 << 30, 1 << 30) and plan.exponent == (2, 0, -3)
    with pytest.raises(DataError, match="too small"):
        column_plan(MFCC, 1e-12)


def test_window_frames_and_rows():
    assert raw_window_frames(MicroSpeechConfig(), (1, 1960)) == 16000  # 49 frames: one second
    assert raw_window_frames(MfccConfig(), (1, 49, 10, 1)) == 16000
    assert raw_window_frames(ImuConfig(), (1, 4, 30)) == 128 + 3 * 64
    assert feature_rows(MicroSpeechConfig(), (1, 49, 40, 1)) == 49
    with pytest.raises(UsageError, match="whole micro_speech rows of 40"):
        raw_window_frames(MicroSpeechConfig(), (1, 490))


def test_column_fields_round_trip_and_are_checked():
    assert config_from_dict(json.loads(json.dumps(config_to_dict(MFCC)))) == MFCC
    base = {"frontend": "mfcc", "num_mfcc": 3}
    with pytest.raises(UsageError, match="needs 3 values"):
        config_from_dict({**base, "input_mean": [1, 2]})
    with pytest.raises(DataError, match=r"0\.\.31"):
        config_from_dict({**base, "input_shift": [0, 1, 32]})
    with pytest.raises(DataError, match="int values"):
        config_from_dict({**base, "input_mean": [1.5, 2, 3]})
    with pytest.raises(UsageError, match="int8_output"):
        config_from_dict({"frontend": "micro_speech", "input_shift": [1] * 40})
    with pytest.raises(UsageError, match="one per feature column"):
        config_from_dict({**config_to_dict(ImuConfig()), "input_shift": [1]})


def test_quantize_multiplier_is_tflms():
    from tinyflow.compile.ops import tflm_math
    from tinyflow.frontends.mapping import quantize_multiplier

    rng = np.random.default_rng(3)
    for real in [0.0, 1.0, 0.5, 2.0**-40, 1e-9, 3.999999, *(10 ** rng.uniform(-12, 9, 500)).tolist()]:
        assert quantize_multiplier(real) == tflm_math.quantize_multiplier(real)
