"""`tinyflow classify` on sim://host labels each window with the names in the model's sidecar
when `--class-names` is not given (the device runs pipeline.c + the compiled model)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from signals import synth
from spoken import micro_speech_beside, write_wav

from conftest import require_tool
from tinyflow.cli.main import cli

pytestmark = pytest.mark.firmware

NAMES = ("silence", "unknown", "yes", "no")
RATE = 16_000


def test_classify_labels_windows_with_the_sidecar_s_names(tmp_path):
    require_tool("cc")
    model = micro_speech_beside(tmp_path, "kws.tflite", class_names=NAMES)
    signal = np.concatenate([synth(np.random.default_rng(k), RATE, RATE) for k in range(3)])
    wav = write_wav(tmp_path / "noise.wav", signal)
    args = ["classify", str(model), "-t", f"sim://host?sensor={wav}&sensor_pace=fast", "-n", "3", "--timeout", "10"]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    got = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(got) == 3 and all(p["label"] == NAMES[p["top1"]] for p in got)
    text = CliRunner().invoke(cli, args)
    assert text.exit_code == 0, text.output
    lines = [line for line in text.stdout.splitlines() if line.startswith("#")]
    assert len(lines) == 3 and all(line.split()[1] in NAMES for line in lines)
