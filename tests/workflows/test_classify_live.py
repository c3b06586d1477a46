"""`tinyflow classify` on sim://host with a played WAV: the device's labels are the host's.

The host reference runs the numpy front end (tinyflow/frontends) on the same windows of the file
and the model in the TFLM reference runtime; the device runs pipeline.c + the compiled model.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from spoken import micro_speech_beside, spoken_words

from conftest import require_tool
from tinyflow.cli.main import cli

pytestmark = pytest.mark.firmware

NAMES = ("silence", "unknown", "yes", "no")
WORDS = ("yes", "no", "up", "yes", "no")
RATE = 16_000


@pytest.fixture(scope="module")
def kws(tmp_path_factory):
    """micro_speech with its front end beside it (a sidecar) and a played clip of spoken words."""
    require_tool("cc")
    folder = tmp_path_factory.mktemp("classify")
    model = micro_speech_beside(folder)
    wav = folder / "words.wav"
    signal = spoken_words(wav, WORDS)
    return model, wav, signal


def _host_reference(model, signal: np.ndarray, starts: list[int]) -> list[np.ndarray]:
    """Output 0, dequantized, of the host's front end + TFLM for the windows starting at `starts`."""
    from tinyflow.frontends import read_sidecar
    from tinyflow.frontends.mapping import features_to_model_input, raw_features, raw_window_frames
    from tinyflow.runtimes import open_runtime
    from tinyflow.tflite import read_model, read_model_file

    config = read_sidecar(model)
    m = read_model(read_model_file(model))
    spec = m.tensors[m.inputs[0]]
    out = m.tensors[m.outputs[0]]
    window = raw_window_frames(config, spec.shape)
    runtime = open_runtime("tflm", model)
    outputs = []
    for start in starts:
        features = raw_features(config, signal[start : start + window])
        x = features_to_model_input(config, features, spec.dtype, spec.scale, spec.zero_point)
        y = runtime.invoke(x.reshape(spec.shape))[0].astype(np.float64)
        outputs.append(out.scale * (y - out.zero_point))
    return outputs


def test_classify_prints_the_labels_the_host_model_predicts_for_the_same_windows(kws):
    model, wav, signal = kws
    stride = RATE // 2  # overlapping windows: every half second
    result = CliRunner().invoke(
        cli,
        [
            "classify",
            str(model),
            "--target",
            f"sim://host?sensor={wav}",
            "--stride",
            str(stride),
            "--class-names",
            ",".join(NAMES),
            "--json",
            "--timeout",
            "10",
        ],
    )
    assert result.exit_code == 0, result.output
    got = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    starts = list(range(0, len(signal) - RATE + 1, stride))
    assert [p["index"] for p in got] == list(range(len(starts)))  # the whole file, nothing lost
    expected = _host_reference(model, signal, starts)
    assert [p["label"] for p in got] == [NAMES[int(np.argmax(y))] for y in expected]
    for p, y in zip(got, expected):
        assert np.allclose(p["confidences"], y, atol=1e-5)
    assert {"yes", "no"} <= {p["label"] for p in got}  # the clip is not one long silence
    # Window k starts stride frames after window k-1 on the device's clock.
    assert [b["device_us"] - a["device_us"] for a, b in zip(got, got[1:])] == [500_000] * (len(got) - 1)
    assert all(p["timing_us"]["inference"] > 0 and p["timing_us"]["features"] > 0 for p in got)


def test_classify_text_output_and_count(kws):
    model, wav, _ = kws
    result = CliRunner().invoke(
        cli,
        [
            "classify",
            str(model),
            "-t",
            f"sim://host?sensor={wav}&sensor_pace=fast",
            "-n",
            "2",
            "--class-names",
            ",".join(NAMES),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("#")]
    assert len(lines) == 2 and lines[0].startswith("#0  yes")
    assert "predictions: 2 in" in result.stdout


def test_a_model_without_a_sidecar_classifies_with_frontend(kws, tmp_path):
    """--frontend NAME for a third-party model that carries no front end: the firmware is built with
    that front end's defaults, and the labels are the ones the sidecar run gives."""
    model, wav, signal = kws
    bare = tmp_path / "micro_speech.tflite"
    shutil.copyfile(model, bare)  # no sidecar beside this copy
    args = ["classify", "-t", f"sim://host?sensor={wav}&sensor_pace=fast", "-n", "3", "--json"]
    names = ["--class-names", ",".join(NAMES)]
    refused = CliRunner().invoke(cli, ["classify", str(bare), *args[1:], *names])
    assert refused.exit_code == 1 and "no front end" in refused.stderr and "--frontend NAME" in refused.stderr
    result = CliRunner().invoke(cli, ["classify", str(bare), *args[1:], *names, "--frontend", "micro_speech"])
    assert result.exit_code == 0, result.output
    got = [json.loads(line)["label"] for line in result.stdout.splitlines() if line.startswith("{")]
    expected = _host_reference(model, signal, [0, RATE, 2 * RATE])
    assert got == [NAMES[int(np.argmax(y))] for y in expected]
    conflict = CliRunner().invoke(cli, ["classify", str(model), *args[1:], "--frontend", "mfcc"])
    assert conflict.exit_code == 2 and "conflicts with the model's sidecar" in conflict.stderr


def test_classify_without_a_sensor_says_how_to_give_one(kws):
    model, _, _ = kws
    result = CliRunner().invoke(cli, ["classify", str(model), "--target", "sim://host", "-n", "1"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1].startswith("Error: The device has no sensor for its front end")
    assert "?sensor=FILE.wav" in result.stderr


@pytest.mark.qemu
@pytest.mark.arm
def test_classify_on_the_emulated_board_predicts_what_the_host_does(kws):
    """The same application on sim://qemu-m4 (Cortex-M4 kernels and front end, the board's clock)."""
    from tinyflow.build import arm
    from tinyflow.targets.machines import qemu_m4

    require_tool(arm.COMPILER)
    require_tool(qemu_m4.QEMU)
    model, wav, signal = kws
    target = f"sim://qemu-m4?sensor={wav}&sensor_pace=fast"
    result = CliRunner().invoke(cli, ["classify", str(model), "-t", target, "--json", "--class-names", ",".join(NAMES)])
    assert result.exit_code == 0, result.output
    got = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    expected = _host_reference(model, signal, list(range(0, len(signal) - RATE + 1, RATE)))
    assert [p["label"] for p in got] == [NAMES[int(np.argmax(y))] for y in expected]
    for p, y in zip(got, expected):
        assert np.allclose(p["confidences"], y, atol=1e-5)
