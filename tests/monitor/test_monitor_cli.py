"""`tinyflow monitor --once` on one device session: the host firmware served on a pseudo-terminal
(as a board on a serial port), fed clean and then drifted windows by INFER requests; the CLI reads
the device's statistics and exits 0 on the clean stream, 1 on the drifted one (gain and noise)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from monitor_helpers import classifier_model, float_samples, quantize

from conftest import require_tool
from tinyflow.cli.main import cli
from tinyflow.monitor import write_reference

pytestmark = pytest.mark.firmware


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(pty path, reference path) of a served sim://host device running the classifier."""
    require_tool("cc")
    from tinyflow.workflows.serve import serve

    folder = tmp_path_factory.mktemp("monitor")
    model = folder / "clf.tflite"
    model.write_bytes(classifier_model())
    reference = write_reference(model, float_samples(300, 0))
    assert reference.name == "clf.monitor.json"
    dev = serve(model, "sim://host")
    try:
        yield dev.path, str(reference)
    finally:
        dev.close()


def _feed(path: str, x: np.ndarray) -> None:
    from tinyflow.targets import open_target
    from tinyflow.targets.client import DeviceClient

    port = open_target(path, timeout=5.0)
    try:
        client = DeviceClient(port, timeout=5.0)
        client.handshake()
        assert len(list(client.infer_many(list(quantize(x))))) == len(x)
    finally:
        port.close()


def _monitor(path, reference, *extra):
    args = ["monitor", "--target", path, "--reference", reference, "--once", "--windows", "30", "--wait", "20"]
    return CliRunner().invoke(cli, [*args, *extra], catch_exceptions=False)


def test_once_exits_0_on_clean_data_and_1_on_drifted_data(served):
    path, reference = served
    _feed(path, float_samples(10, 11))
    first = _monitor(path, reference, "--reset", "--json", "--wait", "1")  # 10 < 30 windows: waits, then says so
    assert first.exit_code == 1 and "observed 10 inferences, not 30" in first.output
    _feed(path, float_samples(30, 12))
    clean = _monitor(path, reference, "--reset", "--json")
    assert clean.exit_code == 0, clean.output
    ok = json.loads(clean.stdout)
    assert ok["verdict"] in ("ok", "warn") and ok["windows"] == 40 and ok["drift_score"] < 0.25
    _feed(path, float_samples(40, 13, gain=1.5, noise=0.8))
    drifted = _monitor(path, reference, "--json")
    assert drifted.exit_code == 1, drifted.output
    alert = json.loads(drifted.stdout)
    assert alert["verdict"] == "alert" and alert["windows"] == 40 and alert["drift_score"] > 0.25
    assert len(alert["features"]) == 8 and alert["monitor_ticks_per_window"] > 0
    text = _monitor(path, reference)  # no --reset before: the same drifted windows, as a table
    assert text.exit_code == 1 and "verdict: alert" in text.output and "Drift per feature" in text.output


def test_a_missing_or_bad_reference_is_one_error_line(served, tmp_path):
    path, _ = served
    gone = CliRunner().invoke(cli, ["monitor", "-t", path, "-r", str(tmp_path / "no.monitor.json"), "--once"])
    assert gone.exit_code == 1 and gone.output.startswith("Error: No reference profile at")
    bad = tmp_path / "bad.monitor.json"
    bad.write_text("{}")
    res = CliRunner().invoke(cli, ["monitor", "-t", path, "-r", str(bad), "--once"])
    assert res.exit_code == 1 and "is not a tinyflow-monitor-profile" in res.output and "Traceback" not in res.output
