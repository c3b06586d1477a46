"""`tinyflow eval --frontend NAME --class-names ...` on a folder of WAV files labelled by folder:
the device computes the features, eval reports feature_agreement next to agreement; the sidecar
is used without being told and wins over nothing, a conflicting --frontend is a usage error."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from signals import synth

from conftest import corpus_path
from tinyflow.cli.main import cli
from tinyflow.data.sample_files import encode_sample
from tinyflow.frontends import MfccConfig, MicroSpeechConfig, write_sidecar

CLASSES = "silence,unknown,yes,no"


def _run(args):
    return CliRunner().invoke(cli, args)


def _report(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout[result.stdout.index("{") :])


@pytest.fixture
def wav_folder(tmp_path):
    """Two labelled folders of WAV clips (lengths around one second: cut or padded by eval)."""
    rng = np.random.default_rng(11)
    for label in ("no", "yes"):
        (tmp_path / "clips" / label).mkdir(parents=True)
        for i in range(2):
            clip = synth(rng, int(rng.integers(12000, 20000)), 16000)
            (tmp_path / "clips" / label / f"{i}.wav").write_bytes(encode_sample(clip, "wav", sample_rate=16000))
    return tmp_path / "clips"


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "kws.tflite"
    shutil.copyfile(corpus_path("tflm/micro_speech_quantized.tflite"), path)
    return path


def test_eval_frontend_on_a_wav_folder_sim_tflm(model, wav_folder):
    args = ["eval", str(model), "-t", "sim://tflm", "-d", str(wav_folder), "--no-progress", "--json"]
    report = _report(_run([*args, "--frontend", "micro_speech", "--class-names", CLASSES]))
    assert report["samples"] == 4 and report["class_names"] == CLASSES.split(",")
    assert report["feature_agreement"]["exact_match_rate"] == 1.0
    assert report["feature_agreement"]["frontend"] == "micro_speech"
    assert report["agreement"]["exact_match_rate"] == 1.0
    # labels were renumbered into the model's order: yes -> 2, no -> 3
    cm = np.asarray(report["metrics"]["confusion"])
    assert cm.shape == (4, 4) and cm[2:].sum() == 4 and cm[:2].sum() == 0
    # the sidecar next to the model is used without --frontend
    write_sidecar(model, MicroSpeechConfig())
    again = _report(_run([*args, "--class-names", CLASSES]))
    assert again["feature_agreement"]["exact_match_rate"] == 1.0
    assert again["metrics"]["confusion"] == report["metrics"]["confusion"]


def test_eval_frontend_conflicts_and_bad_labels(model, wav_folder):
    write_sidecar(model, MfccConfig())
    base = ["eval", str(model), "-t", "sim://tflm", "-d", str(wav_folder), "--no-progress"]
    r = _run([*base, "--frontend", "micro_speech"])
    assert r.exit_code == 2 and "conflicts with the model's sidecar, which names mfcc" in r.output
    model.with_name("kws.tflite.frontend.json").unlink()
    r = _run([*base, "--frontend", "micro_speech", "--class-names", "silence,unknown,up,down"])
    assert r.exit_code == 1 and "not among the class names" in r.output
    r = _run([*base, "--frontend", "spectrogram"])
    assert r.exit_code == 2


@pytest.mark.firmware
def test_eval_frontend_sim_host_device_features(model, wav_folder):
    write_sidecar(model, MicroSpeechConfig())
    args = ["eval", str(model), "-t", "sim://host", "-d", str(wav_folder), "--no-progress", "--json"]
    report = _report(_run([*args, "--class-names", CLASSES]))
    assert report["feature_agreement"]["exact_match_rate"] == 1.0
    assert report["agreement"]["exact_match_rate"] == 1.0 and report["samples"] == 4


def test_profile_shows_the_front_end_as_op_0(model):
    write_sidecar(model, MicroSpeechConfig())
    report = _report(_run(["profile", str(model), "-t", "sim://tflm", "--json"]))
    assert [op["name"] for op in report["ops"]][:2] == ["FRONTEND", "RESHAPE"]


def test_eval_explains_a_device_that_runs_another_front_end(model, wav_folder, monkeypatch):
    """A flashed board cannot be rebuilt by eval: a front end on one side only is named, not a size error."""
    from tinyflow.workflows import device

    real = device.open_device
    monkeypatch.setattr(device, "open_device", lambda url, **kw: real(url, **{**kw, "frontend": MicroSpeechConfig()}))
    r = _run(["eval", str(model), "-t", "sim://tflm", "-d", "random:2", "--no-progress"])
    assert r.exit_code == 2 and "The device runs the micro_speech front end" in r.output
    monkeypatch.setattr(device, "open_device", lambda url, **kw: real(url, **{**kw, "frontend": None}))
    r = _run(["eval", str(model), "-t", "sim://tflm", "-d", str(wav_folder), "--frontend", "micro_speech"])
    assert r.exit_code == 2 and "the device runs the bare model" in r.output
