"""`tinyflow quantize` writes the monitor's reference profile next to the int8 model, from the
calibration draw of the train split (the data the model's int8 ranges come from)."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from tinyflow.cli.main import cli

pytestmark = [pytest.mark.tf, pytest.mark.slow]


def test_quantize_writes_the_reference_profile(tf, tmp_path):
    from tinyflow.data import load_dataset, representative, split
    from tinyflow.monitor import load_profile, reference_profile

    m, q = str(tmp_path / "m.keras"), tmp_path / "m_int8.tflite"
    r = CliRunner().invoke(cli, ["train", "-d", "digits", "-m", "mlp", "--epochs", "2", "-o", m])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["quantize", m, "-d", "digits", "-o", str(q), "--calibration", "40"])
    assert r.exit_code == 0, r.output
    path = tmp_path / "m_int8.monitor.json"
    assert f"wrote {path}" in r.stderr
    profile = load_profile(path)
    calibration = representative(split(load_dataset("digits", seed=0), seed=0)[0], 40, 0)
    want = reference_profile(q, calibration)
    assert profile.windows == 40 and profile.model_sha256 == want.model_sha256
    assert np.array_equal(profile.hist, want.hist) and np.array_equal(profile.class_counts, want.class_counts)
    assert profile.columns == min(64, profile.feature_dim) > 0 and len(profile.class_counts) == 10
