"""`tinyflow classify --sample-below P --output STORE` without a device: the opt-in's checks and
what a sampled window becomes in the store (the device side: tests/firmware/test_app_sampling.py)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

from tinyflow.cli.main import cli
from tinyflow.data import open_store
from tinyflow.errors import UsageError
from tinyflow.protocol import messages as m
from tinyflow.workflows.classify import ClassifyConfig, _Sampler


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(b"\0" * 16)
    return path


@pytest.mark.parametrize("below, output", [(0.5, None), (0.0, "store"), (1.5, "store"), (float("nan"), "store")])
def test_the_opt_in_needs_a_threshold_and_a_store_together(model, tmp_path, below, output):
    with pytest.raises(UsageError):
        ClassifyConfig(str(model), "sim://host?sensor=x.csv", sample_below=below, output=output and str(tmp_path))


def test_the_cli_refuses_sample_below_without_output_before_opening_a_device(model):
    result = CliRunner().invoke(cli, ["classify", str(model), "-t", "sim://host", "--sample-below", "0.6"])
    assert result.exit_code == 2 and "Error: --sample-below and --output go together" in result.output


def test_a_sampled_window_is_stored_raw_and_unlabelled_with_its_window_index(model, tmp_path):
    config = ClassifyConfig(str(model), "sim://host?sensor=x.csv", sample_below=0.6, output=str(tmp_path / "s"))
    info = m.ClassifyInfo(window_frames=4, channels=3, rate_hz=50, num_classes=2)
    frames = np.arange(12, dtype="<i2").reshape(4, 3) - 6
    sink = _Sampler(config)
    sink.add(SimpleNamespace(index=7, window=frames.tobytes()), info)
    sink.add(SimpleNamespace(index=8, window=b"\0" * 10), info)  # not the announced shape: skipped
    assert sink.close() == 1
    (entry,) = open_store(tmp_path / "s").entries
    assert (entry.label, entry.group, entry.sensor, entry.sample_rate) == ("unlabelled", "window-7", "imu", 50)
    assert np.array_equal(open_store(tmp_path / "s").read(entry).data, frames)
    assert entry.device == "sim://host?sensor=x.csv"
