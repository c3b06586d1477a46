"""Class names travel with the model in its front end sidecar (`class_names`): written by
`train --frontend` and the demo tasks (the training labels in class-index order), carried by
prune/quantize, used by `eval` and `classify` when `--class-names` is not given; a different
`--class-names` is a usage error in both verbs, like a different `--frontend`. Validated as
untrusted input; never emitted into generated C."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from signals import synth

from conftest import corpus_path
from tinyflow.cli.main import cli
from tinyflow.data import Dataset, create_store
from tinyflow.data.sample_files import encode_sample
from tinyflow.errors import DataError, UsageError
from tinyflow.frontends import (
    ImuConfig,
    MfccConfig,
    MicroSpeechConfig,
    config_from_dict,
    config_to_dict,
    read_sidecar,
    sidecar_path,
    write_sidecar,
)
from tinyflow.frontends.config import validate

NAMES = ("silence", "unknown", "yes", "no")


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "kws.tflite"
    shutil.copyfile(corpus_path("tflm/micro_speech_quantized.tflite"), path)
    return path


@pytest.fixture
def wav_folder(tmp_path):
    """Two labelled folders of WAV clips (yes, no)."""
    rng = np.random.default_rng(5)
    for label in ("no", "yes"):
        (tmp_path / "clips" / label).mkdir(parents=True)
        for i in range(2):
            clip = synth(rng, 16000, 16000)
            (tmp_path / "clips" / label / f"{i}.wav").write_bytes(encode_sample(clip, "wav", sample_rate=16000))
    return tmp_path / "clips"


def _imu_store(root, labels=("walk", "idle", "run")):
    """A small IMU store: 3 axes x 64 samples of int16 counts per recording, 4 recordings a label."""
    rng = np.random.default_rng(3)
    with create_store(root) as store:
        for k, label in enumerate(labels):
            for i in range(4):
                x = (rng.normal(0, 200 * (k + 1), (64, 3))).round().astype(np.int16)
                store.add_sample(x, label, sensor="imu", sample_rate=50, split=("train", "train", "val", "test")[i])
    return root


# -- the configuration -------------------------------------------------------------------------


def test_sidecar_round_trips_class_names(tmp_path):
    model = tmp_path / "m.tflite"
    for config in (
        MicroSpeechConfig(class_names=NAMES),
        MfccConfig(class_names=("a",)),
        ImuConfig(class_names=("x", "y")),
    ):
        write_sidecar(model, config)
        assert read_sidecar(model) == config
        assert json.loads(sidecar_path(model).read_text())["class_names"] == list(config.class_names)
    write_sidecar(model, MfccConfig())
    assert read_sidecar(model).class_names == ()  # optional: a model without names reads as before


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ("yes,no", "class_names must be a list"),
        ([1, 2], "class_names must be a list"),
        ([""], "1-64 printable"),
        (["x" * 65], "1-64 printable"),
        (["ok", "red\x1b[31m"], "1-64 printable"),
        (["two\nlines"], "1-64 printable"),
        (["\u202eevil"], "1-64 printable"),
        (["a", "b", "a"], "names 'a' twice"),
        ([f"c{i}" for i in range(1001)], "at most 1,000"),
    ],
)
def test_hostile_class_names_in_a_sidecar_are_refused(bad, match):
    with pytest.raises(DataError, match=match):
        config_from_dict({**config_to_dict(MfccConfig()), "class_names": bad})


def test_class_names_built_in_code_are_checked_too():
    with pytest.raises(UsageError, match="names 'yes' twice"):
        validate(MicroSpeechConfig(class_names=("yes", "yes")))
    with pytest.raises(UsageError, match="1-64 printable"):
        validate(ImuConfig(class_names=("a\x00",)))
    validate(MfccConfig(class_names=tuple(f"c{i}" for i in range(1000))))


def test_generated_c_never_carries_the_class_names():
    from tinyflow.export.frontend_tables import render_micro_speech, render_pipeline_plan
    from tinyflow.workflows.eval_data import TensorSpec

    spec = TensorSpec("in", (1, 1960), np.dtype(np.int8), 0.1, -128)
    named = MicroSpeechConfig(class_names=("*/ evil(); /*", "no"))
    text = render_pipeline_plan(named, spec)
    assert "evil" not in text and text == render_pipeline_plan(MicroSpeechConfig(), spec)
    assert render_micro_speech(named) == render_micro_speech(MicroSpeechConfig())


# -- written by train --frontend and the demo tasks, carried by prune/quantize ---------------------


def test_frontend_for_takes_the_training_labels_in_class_index_order():
    from tinyflow.model.features import frontend_for

    ds = Dataset(np.zeros((3, 64, 3), np.float32), np.array([0, 1, 2]), "classification", ["walk", "idle", "run"], "t")
    assert frontend_for("imu", ds).class_names == ("walk", "idle", "run")
    audio = Dataset(np.zeros((2, 16000), np.float32), np.array([0, 1]), "classification", ["yes", "no"], "a")
    assert frontend_for("micro_speech", audio).class_names == ("yes", "no")
    assert frontend_for("mfcc", audio).class_names == ("yes", "no")
    bad = Dataset(audio.x, audio.y, "classification", ["yes", "n" * 65], "a")
    with pytest.raises(DataError, match="1-64 printable"):
        frontend_for("mfcc", bad)


def test_train_splits_of_a_store_carry_its_labels(tmp_path):
    from tinyflow.model.pipeline import _raw_train_splits

    store = _imu_store(tmp_path / "imu")
    tr, _, config = _raw_train_splits(str(store), 0, "imu")
    assert config.class_names == tuple(tr.class_names) == ("idle", "run", "walk")  # the store's, sorted


def test_prune_and_quantize_carry_the_names(tmp_path):
    from tinyflow.model.pipeline import carry_sidecar

    src, dst = tmp_path / "a.keras", tmp_path / "b.tflite"
    write_sidecar(src, ImuConfig(class_names=("idle", "run")))
    carry_sidecar(src, dst)
    assert read_sidecar(dst).class_names == ("idle", "run")


def test_demo_har_data_stage_names_the_classes(tmp_path):
    from tinyflow.workflows.config import DemoConfig
    from tinyflow.workflows.demo import DemoState, stage_data

    state = DemoState(DemoConfig(task="har", out=tmp_path))
    line = stage_data(state)
    assert "basic-motions" in line and state.report["data"]["classes"] == list(state.frontend.class_names)
    assert state.frontend.class_names == ("Badminton", "Running", "Standing", "Walking")
    state.model_file(tmp_path / "model.keras")
    assert read_sidecar(tmp_path / "model.keras").class_names == state.frontend.class_names


@pytest.mark.tf
def test_train_frontend_writes_the_names(tf, tmp_path):
    from tinyflow.model.pipeline import train_file

    store = _imu_store(tmp_path / "imu")
    report = train_file(str(store), None, tmp_path / "m.keras", epochs=1, verbose=False, frontend="imu")
    assert read_sidecar(tmp_path / "m.keras").class_names == ("idle", "run", "walk")
    assert report.frontend["class_names"] == ["idle", "run", "walk"]


# -- used by eval and classify -------------------------------------------------------------------


def _eval(args):
    return CliRunner().invoke(cli, ["eval", *args, "-t", "sim://tflm", "--no-progress"])


def test_eval_uses_the_sidecar_s_names(model, wav_folder):
    write_sidecar(model, MicroSpeechConfig(class_names=NAMES))
    result = _eval([str(model), "-d", str(wav_folder), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{") :])
    assert report["class_names"] == list(NAMES)
    cm = np.asarray(report["metrics"]["confusion"])  # yes -> 2, no -> 3 by name, as with --class-names
    assert cm.shape == (4, 4) and cm[2:].sum() == 4 and cm[:2].sum() == 0
    text = _eval([str(model), "-d", str(wav_folder), "--report", str(model.parent / "rep")])
    assert text.exit_code == 0, text.output
    matrix = text.stdout[text.stdout.index("confusion matrix") :]
    assert all(name in matrix for name in NAMES)
    html = (model.parent / "rep" / "report.html").read_text()
    assert all(name in html for name in NAMES)
    same = _eval([str(model), "-d", str(wav_folder), "--class-names", ",".join(NAMES)])
    assert same.exit_code == 0, same.output


def test_eval_of_unnamed_labels_takes_them_as_output_indices(model, tmp_path):
    """A .npz without class_names has labels 0..k-1: they index the outputs the sidecar names."""
    write_sidecar(model, MicroSpeechConfig(class_names=NAMES))
    rng = np.random.default_rng(2)
    data = tmp_path / "raw.npz"
    np.savez(data, x=np.stack([synth(rng, 16000, 16000) for _ in range(3)]), y=np.array([2, 3, 3]))
    result = _eval([str(model), "-d", str(data), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{") :])
    cm = np.asarray(report["metrics"]["confusion"])
    assert report["class_names"] == list(NAMES) and cm.shape == (4, 4)
    assert (cm[2].sum(), cm[3].sum(), cm[:2].sum()) == (1, 2, 0)
    np.savez(data, x=np.stack([synth(rng, 16000, 16000) for _ in range(2)]), y=np.array([0, 4]))
    result = _eval([str(model), "-d", str(data)])
    assert result.exit_code == 1 and "label 4" in result.stderr


def test_eval_refuses_names_that_differ_from_the_sidecar_s(model, wav_folder):
    write_sidecar(model, MicroSpeechConfig(class_names=NAMES))
    result = _eval([str(model), "-d", str(wav_folder), "--class-names", "silence,unknown,no,yes"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --class-names silence,unknown,no,yes conflict with the model's sidecar")


def test_eval_error_escapes_a_hostile_name(model, wav_folder):
    data = {**config_to_dict(MicroSpeechConfig()), "class_names": ["yes", "\x1b]0;pwned\x07"]}
    sidecar_path(model).write_text(json.dumps(data))
    result = _eval([str(model), "-d", str(wav_folder)])
    assert result.exit_code == 1 and "1-64 printable" in result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr and len(result.stderr.splitlines()) == 1


def test_classify_uses_the_sidecar_s_names(model):
    from tinyflow.workflows.classify import ClassifyConfig

    write_sidecar(model, MicroSpeechConfig(class_names=NAMES))
    assert ClassifyConfig(str(model)).class_names == NAMES
    assert ClassifyConfig(str(model), class_names=NAMES).class_names == NAMES
    with pytest.raises(UsageError, match="conflict with the model's sidecar, which names silence,unknown,yes,no"):
        ClassifyConfig(str(model), class_names=("a", "b", "c", "d"))
    write_sidecar(model, MicroSpeechConfig())  # no names in the sidecar: the given ones, or none
    assert ClassifyConfig(str(model), class_names=("a", "b")).class_names == ("a", "b")
    assert ClassifyConfig(str(model)).class_names == ()


def test_classify_cli_refuses_names_that_differ_before_opening_the_device(model, monkeypatch):
    from tinyflow import targets

    monkeypatch.setattr(targets, "open_target", lambda *a, **k: pytest.fail("the device was opened"))
    write_sidecar(model, MicroSpeechConfig(class_names=NAMES))
    args = ["classify", str(model), "--target", "sim://host?sensor=x.wav", "--class-names", "yes,no"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --class-names yes,no conflict with the model's sidecar")
