"""The done-when of field monitoring, end to end in application mode: micro_speech with its front
end on sim://host plays a recording (a played sensor); `tinyflow monitor --once --start` starts
classification itself, reads the device's statistics and exits 0 on the clean stream and 1 on the
same stream with gain and noise injected into the sensor (the drift a field device meets).

The reference profile is computed on the host (the numpy front end, the integer feature mapping
and TFLM) from the clean recording's windows, as `tinyflow quantize` would from training data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from spoken import micro_speech_beside, spoken_words

from conftest import require_tool
from tinyflow.cli.main import cli

pytestmark = [pytest.mark.firmware, pytest.mark.slow]

RATE = 16_000
WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "yes") * 2


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    """(model with its sidecar, recording, reference profile path)."""
    require_tool("cc")
    folder = tmp_path_factory.mktemp("monitor-app")
    model = micro_speech_beside(folder)
    wav = folder / "words.wav"
    signal = spoken_words(wav, WORDS)
    return model, wav, _reference(model, signal)


def _reference(model, signal):
    """The reference profile of the clean recording's windows, computed on the host."""
    from tinyflow.frontends import read_sidecar
    from tinyflow.frontends.mapping import features_to_model_input, raw_features, raw_window_frames
    from tinyflow.monitor import save_profile
    from tinyflow.monitor.reference import reference_path, reference_profile
    from tinyflow.tflite import read_model, read_model_file

    config = read_sidecar(model)
    spec = read_model(read_model_file(model)).tensors[read_model(read_model_file(model)).inputs[0]]
    window = raw_window_frames(config, spec.shape)
    xs = [
        features_to_model_input(
            config, raw_features(config, signal[s : s + window]), spec.dtype, spec.scale, spec.zero_point
        )
        for s in range(0, len(signal) - window + 1, window)
    ]
    profile = reference_profile(model, np.stack(xs), quantized=True, class_names=["silence", "unknown", "yes", "no"])
    path = reference_path(model)
    save_profile(profile, path)
    return path


def _monitor(model, wav, reference, sensor: str = ""):
    url = f"sim://host?sensor={wav}&sensor_pace=fast{sensor}"
    args = [
        "monitor",
        "-t",
        url,
        "-m",
        str(model),
        "-r",
        str(reference),
        "--once",
        "--start",
        "--windows",
        "20",
        "--wait",
        "60",
        "--json",
        "--timeout",
        "10",
    ]
    return CliRunner().invoke(cli, args)


def test_monitor_once_passes_the_clean_stream_and_alerts_on_the_drifted_one(played):
    model, wav, reference = played
    clean = _monitor(model, wav, reference)
    assert clean.exit_code == 0, clean.output
    ok = json.loads(clean.stdout)
    assert ok["verdict"] in ("ok", "warn") and ok["windows"] >= 20 and ok["drift_score"] < 0.25, ok
    drifted = _monitor(model, wav, reference, "&sensor_gain=4&sensor_noise=400&sensor_seed=1")
    assert drifted.exit_code == 1, drifted.output
    alert = json.loads(drifted.stdout)
    assert alert["verdict"] == "alert" and alert["drift_score"] > 0.25, alert
    print("clean", ok["drift_score"], ok["class_psi"], "drifted", alert["drift_score"], alert["reasons"])
