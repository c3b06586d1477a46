"""Front end configurations: JSON round trip, the sidecar next to a model, hostile sidecars."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tinyflow.errors import DataError, UsageError
from tinyflow.frontends import (
    CONFIGS,
    ImuConfig,
    MfccConfig,
    MicroSpeechConfig,
    compute_features,
    config_from_dict,
    config_to_dict,
    default_config,
    read_sidecar,
    sidecar_path,
    write_sidecar,
)
from tinyflow.frontends.micro_speech import features_to_int8


@pytest.mark.parametrize(
    "config",
    [
        MicroSpeechConfig(),
        MicroSpeechConfig(num_channels=32, enable_pcan=False),
        MfccConfig(num_mfcc=13),
        ImuConfig(axes=2, scale_q15=(1000, -2000), features=("fft",), fft_bins=4),
    ],
)
def test_json_round_trip(config):
    data = json.loads(json.dumps(config_to_dict(config)))
    assert data["frontend"] == config.name and config_from_dict(data) == config


def test_sidecar_travels_next_to_the_model(tmp_path):
    model = tmp_path / "kws.tflite"
    model.write_bytes(b"model")
    assert read_sidecar(model) is None
    path = write_sidecar(model, MfccConfig(num_mfcc=12))
    assert path == sidecar_path(model) and path.name == "kws.tflite.frontend.json"
    assert read_sidecar(model) == MfccConfig(num_mfcc=12)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[1, 2]", "must be a JSON object"),
        ('{"frontend": "spectro"}', "Unknown front end 'spectro'"),
        ('{"frontend": "mfcc", "version": 2}', "version 2 is not supported"),
        ('{"frontend": "mfcc", "num_mfcc": 10, "evil": 1}', "Unknown mfcc front end setting"),
        ('{"frontend": "mfcc", "num_mfcc": 1e9}', "must be an integer"),
        ('{"frontend": "micro_speech", "num_channels": 100000}', "outside 1..64"),
        ('{"frontend": "micro_speech", "lower_band_hz": NaN}', "outside"),
        ('{"frontend": "micro_speech", "enable_pcan": 1}', "true or false"),
        ('{"frontend": "imu", "scale_q15": "abc"}', "must be a list"),
        ('{"frontend": "imu", "features": [1, 2, 3]}', "must hold str values"),
        ("{not json", "not valid JSON"),
        ('{"frontend": "mfcc", "window_ms": ' + "[" * 30000 + "]" * 30000 + "}", "not valid JSON"),
        (" " * 70000 + "{}", "more than the 65,536 B"),
        ('{"frontend": "imu", "scale_q15": [' + ",".join(["1"] * 65) + "]}", "at most 64 items"),
    ],
)
def test_hostile_sidecars_fail_with_a_message(tmp_path, text, message):
    model = tmp_path / "m.tflite"
    sidecar_path(model).write_text(text)
    with pytest.raises(DataError, match=message):
        read_sidecar(model)


def test_cross_field_settings_are_checked():
    with pytest.raises(UsageError, match="does not fit 8000 Hz"):
        config_from_dict({"frontend": "micro_speech", "sample_rate": 8000})
    with pytest.raises(UsageError, match="num_mfcc <= num_mel_bins"):
        config_from_dict({"frontend": "mfcc", "num_mfcc": 20, "num_mel_bins": 10})
    with pytest.raises(UsageError, match="scale_q15 needs 2 values"):
        config_from_dict({"frontend": "imu", "axes": 2})
    with pytest.raises(UsageError, match="Unknown front end"):
        default_config("spectro")


def test_compute_features_dispatches_by_configuration():
    rng = np.random.default_rng(0)
    audio = rng.integers(-3000, 3000, 16000).astype(np.int16)
    micro = compute_features(default_config("micro_speech"), audio)
    assert micro.shape == (49, 40) and micro.dtype == np.int8
    raw = compute_features(MicroSpeechConfig(int8_output=False), audio)
    assert raw.dtype == np.uint16 and np.array_equal(features_to_int8(raw), micro)
    assert compute_features(default_config("mfcc"), audio).shape == (49, 10)
    imu = compute_features(default_config("imu"), rng.integers(-100, 100, (256, 3)).astype(np.int16))
    assert imu.shape == (3, 3 * 10) and imu.dtype == np.int32
    assert set(CONFIGS) == {"micro_speech", "mfcc", "imu"}


def test_int8_conversion_is_micro_speech_s():
    features = np.array([0, 1, 3, 333, 334, 666, 1000, 65535], dtype=np.uint16)
    assert features_to_int8(features).tolist() == [-128, -128, -127, 0, 0, 127, 127, 127]


def test_front_ends_never_import_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "import tinyflow.frontends as f, tinyflow.export.frontend_tables as c\n"
        "f.compute_features(f.default_config('micro_speech'), np.zeros(16000, np.int16))\n"
        "c.render_micro_speech(f.MicroSpeechConfig())\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
