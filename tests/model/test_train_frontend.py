"""`tinyflow train --frontend`: raw recordings -> a front end's features -> a model with its sidecar.

The numpy tests need neither TensorFlow nor a compiler; the CLI tests train for two epochs on a
store synthesized here (two tones, half a second each) and check what the model was trained on.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from tinyflow.data import Dataset, create_store, load_dataset, split
from tinyflow.errors import DataError
from tinyflow.frontends import ImuConfig, MfccConfig, read_sidecar
from tinyflow.frontends.mapping import features_to_float, raw_features
from tinyflow.model.features import featurize, fit_columns, frontend_for, signal_int16

RATE = 16_000


def _tone(hz: float, rng, seconds: float = 0.5) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    x = rng.uniform(2000, 9000) * np.sin(2 * np.pi * hz * t + rng.uniform(0, 6)) + rng.normal(0, 300, t.size)
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def make_audio_store(root, per_class: int = 8, seed: int = 0):
    """Two classes (low and high tones); the last two of each class in val and test."""
    rng = np.random.default_rng(seed)
    with create_store(root) as store:
        for label, hz in (("low", 400.0), ("high", 2500.0)):
            for i in range(per_class):
                part = "test" if i == 0 else "val" if i == 1 else "train"
                store.add_sample(
                    _tone(hz * rng.uniform(0.9, 1.1), rng), label, sensor="audio", sample_rate=RATE, split=part
                )
    return root


# -- numpy only ------------------------------------------------------------------------------------


def test_store_audio_becomes_the_int16_signal_it_was():
    clip = np.array([-32768, -1, 0, 1, 12345, 32767], dtype=np.int16)
    as_loaded = (clip.astype(np.float32) / 32768.0)[:, None]  # a store's WAV sample, (time, 1)
    assert np.array_equal(signal_int16(as_loaded, MfccConfig(), 32768.0), clip)


def test_imu_in_physical_units_is_refused_not_rounded():
    config = ImuConfig(axes=2, scale_q15=(32767, 32767))
    assert signal_int16(np.array([[1.0, -2.0], [300.0, 4.0]]), config).dtype == np.int16
    with pytest.raises(DataError, match="int16"):
        signal_int16(np.array([[0.25, 9.81], [0.5, 9.7]]), config)


def test_imu_window_fits_short_recordings():
    ds = Dataset(np.zeros((4, 100, 6), np.float32), np.arange(4) % 2)
    config = frontend_for("imu", ds)
    assert (config.axes, config.window, config.step, len(config.scale_q15)) == (6, 32, 16, 6)
    with pytest.raises(DataError, match="too short"):
        frontend_for("imu", Dataset(np.zeros((4, 3, 6), np.float32), np.arange(4) % 2))


def test_micro_speech_trains_through_its_column_scaling():
    # micro_speech's fixed int8 conversion only fits the corpus model's input scale
    ds = Dataset(np.zeros((2, 16000, 1), np.float32), np.arange(2))
    assert frontend_for("micro_speech", ds).int8_output is False


def test_fit_columns_scales_each_column_near_unit():
    rng = np.random.default_rng(1)
    wide = rng.normal(1000, 256, size=(50, 7))
    narrow = rng.normal(-3, 0.3, size=(50, 7))
    features = np.rint(np.stack([wide, narrow] + [wide] * 8, axis=-1)).astype(np.int16)  # [50, 7, 10]
    config = fit_columns(MfccConfig(), features)
    assert config.input_shift[0] == 8 and config.input_shift[1] == 0
    assert abs(config.input_mean[0] - 1000) < 80 and config.input_mean[1] == round(float(features[..., 1].mean()))
    scaled = features_to_float(config, features)
    assert 0.5 < scaled[..., 0].std() < 2.0


def test_featurize_feeds_the_model_the_front_end_features(tmp_path):
    ds = load_dataset(str(make_audio_store(tmp_path / "s", per_class=3)))
    config = fit_columns(MfccConfig(), np.zeros((1, 1, 10), np.int16) + 7)
    x = featurize(ds, config, 32768.0).x
    want = features_to_float(config, raw_features(config, np.rint(ds.x[1, :, 0] * 32768).astype(np.int16)))
    assert x.shape == (6, 24, 10) and np.array_equal(x[1], want)


def test_a_folder_of_wav_files_labelled_by_folder_is_raw_data(tmp_path):
    from tinyflow.data.sample_files import encode_sample
    from tinyflow.model.pipeline import load_raw, load_splits

    rng = np.random.default_rng(3)
    clips = {}
    for label, hz in (("low", 400.0), ("high", 2500.0)):
        (tmp_path / "rec" / label).mkdir(parents=True)
        for i in range(4):
            clip = _tone(hz, rng, seconds=0.1)
            clips[(label, i)] = clip
            (tmp_path / "rec" / label / f"{i}.wav").write_bytes(encode_sample(clip[:, None], "wav", sample_rate=RATE))
    ds, kind = load_raw(str(tmp_path / "rec"))
    assert (kind, ds.class_names, len(ds), ds.name) == ("store", ["high", "low"], 8, "rec")
    config = fit_columns(MfccConfig(), np.zeros((1, 1, 10), np.int16))
    splits = load_splits(str(tmp_path / "rec"), 0, config)
    assert sum(len(s) for s in splits) == 8 and all(s.x.shape[1:] == (4, 10) for s in splits if len(s))
    want = features_to_float(config, raw_features(config, clips[("low", 0)]))
    assert any(np.array_equal(x, want) for s in splits for x in s.x)  # WAV int16 back exactly, then MFCC


# -- the CLI, with TensorFlow -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tf, tmp_path_factory):
    from tinyflow.cli.main import cli

    root = tmp_path_factory.mktemp("train_frontend")
    store = make_audio_store(root / "tones")
    out = root / "m.keras"
    args = ["train", "-d", str(store), "--frontend", "mfcc", "--epochs", "2", "-o", str(out), "--json"]
    result = CliRunner().invoke(cli, args)
    return store, out, result


@pytest.mark.tf
def test_train_frontend_writes_model_and_sidecar(trained):
    from tinyflow.model.train import load_keras

    store, out, result = trained
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["class_names"] == ["high", "low"] and report["frontend"]["frontend"] == "mfcc"
    config = read_sidecar(out)
    assert isinstance(config, MfccConfig) and len(config.input_mean) == len(config.input_shift) == 10
    # the means are those of the train split's own MFCC features (not val or test, not the raw audio)
    train_split = split(load_dataset(str(store)))[0]
    feats = np.stack([raw_features(config, np.rint(x[:, 0] * 32768).astype(np.int16)) for x in train_split.x])
    assert list(config.input_mean) == [int(v) for v in np.round(feats.reshape(-1, 10).mean(axis=0))]
    assert tuple(load_keras(out).input_shape[1:]) == (24, 10)  # 0.5 s: 24 MFCC frames of 10
    assert report["model"] == "kws_cnn"


@pytest.mark.tf
def test_sidecar_travels_through_prune_and_quantize(trained, tmp_path):
    from tinyflow.cli.main import cli
    from tinyflow.frontends import sidecar_path

    store, model, _ = trained
    pruned, int8 = tmp_path / "p.keras", tmp_path / "q.tflite"
    runner = CliRunner()
    result = runner.invoke(
        cli, ["prune", str(model), "-d", str(store), "--ratio", "0.5", "--epochs", "1", "-o", str(pruned)]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["quantize", str(pruned), "-d", str(store), "-o", str(int8), "--calibration", "8"])
    assert result.exit_code == 0, result.output
    assert read_sidecar(pruned) == read_sidecar(int8) == read_sidecar(model)
    assert sidecar_path(int8).read_bytes() == sidecar_path(model).read_bytes()


@pytest.mark.tf
def test_quantize_without_sidecar_drops_a_stale_one(tmp_path):
    from tinyflow.cli.main import cli
    from tinyflow.frontends import sidecar_path, write_sidecar
    from tinyflow.model import train, zoo

    model = zoo.build_model("mlp", (8, 8, 1), 10, seed=0)
    train.save_keras(model, tmp_path / "d.keras")
    out = tmp_path / "d.tflite"
    write_sidecar(out, MfccConfig())  # left by an earlier run: it describes another model's input
    result = CliRunner().invoke(cli, ["quantize", str(tmp_path / "d.keras"), "-d", "digits", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and not sidecar_path(out).exists()


def test_train_frontend_refuses_imu_in_physical_units(tmp_path):
    from tinyflow.cli.main import cli

    with create_store(tmp_path / "imu") as store:
        for i in range(6):
            x = np.random.default_rng(i).normal(0, 2, size=(64, 3)).astype(np.float32)
            store.add_sample(x, "a" if i % 2 else "b", sensor="imu", sample_rate=50, split="train")
    out = tmp_path / "m.keras"
    result = CliRunner().invoke(cli, ["train", "-d", str(tmp_path / "imu"), "--frontend", "imu", "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert "Error:" in result.output and "int16" in result.output and not out.exists()
