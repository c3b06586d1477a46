"""Where the drift goes: Prometheus gauges scraped over HTTP, MLflow metrics read back through the
client, and the live dashboard rendered by real headless Chromium (values change between two
polls, the inline script draws the charts, nothing on the console)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import urllib.request

import pytest
from monitor_helpers import classifier_model, float_samples, quantize

from conftest import missing, require_tool
from tinyflow.monitor import reference_profile
from tinyflow.monitor.run import MonitorConfig, Session, read_profile

pytestmark = pytest.mark.firmware
RENDER_TIMEOUT = 90


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def device():
    """(DeviceClient on sim://host running the classifier, its reference profile)."""
    require_tool("cc")
    from tinyflow.targets.client import DeviceClient
    from tinyflow.workflows.device import open_device

    model = classifier_model()
    reference = reference_profile(model, float_samples(300, 0), class_names=["up", "down", "left", "right"])
    port = open_device("sim://host", model=model, timeout=5.0)
    try:
        client = DeviceClient(port, timeout=5.0)
        client.handshake()
        yield client, reference
    finally:
        port.close()


def _step(session, client, x):
    list(client.infer_many(list(quantize(x))))
    point = session.timeline.add(read_profile(client))
    assert point is not None
    session.publish(point)
    return point


def _scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        text = reply.read().decode()
    return {m[0]: float(m[1]) for m in re.findall(r"^(tinyflow_monitor_\S+) (\S+)$", text, re.M)}


def _require(module: str, what: str) -> None:
    """Skip, or fail under CI (the set-up installs both), when an optional package is absent."""
    try:
        __import__(module)
    except ImportError:
        missing(what)


def test_prometheus_gauges_follow_each_evaluation(device):
    _require("prometheus_client", "prometheus-client (pip install -e .[monitor])")
    client, reference = device
    port = _free_port()
    session = Session(MonitorConfig("sim://host", "ref.json", prometheus_port=port), reference)
    try:
        clean = _step(session, client, float_samples(30, 21))
        first = _scrape(port)
        assert first["tinyflow_monitor_alert"] == 0.0 and first["tinyflow_monitor_windows"] == 30.0
        assert first["tinyflow_monitor_drift_score"] == pytest.approx(clean.report.drift_score)
        drifted = _step(session, client, float_samples(30, 22, gain=1.6, noise=0.8))
        second = _scrape(port)
        assert second["tinyflow_monitor_alert"] == 1.0 and drifted.report.verdict == "alert"
        assert second["tinyflow_monitor_drift_score"] == pytest.approx(drifted.report.drift_score)
        assert drifted.report.drift_score > 0.25
        worst = drifted.report.top(1)[0]
        assert second[f'tinyflow_monitor_feature_psi{{column="{worst.column}"}}'] == pytest.approx(worst.psi)
        assert 'tinyflow_monitor_class_share{label="down"}' in second
    finally:
        session.close()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)


def test_metrics_go_to_mlflow_when_tracking_is_on(device, tmp_path):
    _require("mlflow", "MLflow (pip install -e .[tracking])")
    client, reference = device
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    session = Session(MonitorConfig("sim://host", "ref.json", track_uri=uri), reference)
    try:
        points = [
            _step(session, client, float_samples(20, 31)),
            _step(session, client, float_samples(20, 32, gain=1.7)),
        ]
        run_id = session.exporters[0].run_id
    finally:
        session.close()
    from mlflow.tracking import MlflowClient

    history = MlflowClient(tracking_uri=uri).get_metric_history(run_id, "drift_score")
    assert [(h.step, h.value) for h in history] == [(p.step, pytest.approx(p.report.drift_score)) for p in points]
    run = MlflowClient(tracking_uri=uri).get_run(run_id)
    assert run.data.tags["tinyflow.verb"] == "monitor" and run.info.status == "FINISHED"


def _render(url: str, scratch) -> tuple[str, list[str]]:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        missing("chromium (apt-get install chromium)")
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={scratch / 'chromium-profile'}",
        "--virtual-time-budget=2500",
        "--dump-dom",
        url,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=RENDER_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium did not render {url} within {RENDER_TIMEOUT} s")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # helpers that outlive the browser
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode(), [line for line in err.decode(errors="replace").splitlines() if ":CONSOLE" in line]


def _cell(dom: str, ident: str) -> str:
    match = re.search(rf'id="{ident}"[^>]*>([^<]*)<', dom)
    assert match, f"no #{ident} in the page"
    return match.group(1).strip()


def test_dashboard_renders_live_values_in_chromium(device, tmp_path):
    client, reference = device
    session = Session(MonitorConfig("sim://host", "ref.json", serve_port=_free_port()), reference)
    try:
        first = _step(session, client, float_samples(25, 41))
        dom1, console1 = _render(session.dashboard.url, tmp_path)
        second = _step(session, client, float_samples(25, 42, gain=1.6, noise=0.8))
        dom2, console2 = _render(session.dashboard.url, tmp_path)
    finally:
        session.close()
    assert console1 == [] and console2 == [], console1 + console2
    assert _cell(dom1, "v-step") == "1" and _cell(dom2, "v-step") == "2"
    assert _cell(dom1, "v-drift") == f"{first.report.drift_score:.3f}" != _cell(dom2, "v-drift")
    assert _cell(dom2, "v-drift") == f"{second.report.drift_score:.3f}"
    assert "alert" in _cell(dom2, "verdict") and 'class="banner fail"' in dom2
    # Drawn by the inline script: one line per charted feature, one point per evaluation.
    chart = re.search(r'<svg id="drift-chart".*?</svg>', dom2, re.S).group(0)
    lines = re.findall(r'<polyline points="([^"]*)"', chart)
    assert len(lines) == 8 and all(len(p.split()) == 2 for p in lines)
    assert re.findall(r'data-share="([0-9.]+)"', dom2) == [f"{s:.4f}" for s in second.report.class_mix_now[:4]]
    assert "<script src" not in dom2 and "http" not in re.sub(
        r'xmlns="http[^"]*"|"http://www.w3.org/2000/svg"', "", dom2
    )


def test_the_open_page_updates_itself_from_state_json(device, tmp_path):
    """The page is served with one evaluation; its script's poll of state.json brings the second."""
    from tinyflow.monitor.dashboard import Dashboard

    client, reference = device
    session = Session(MonitorConfig("sim://host", "ref.json"), reference)
    _step(session, client, float_samples(20, 51))
    last = _step(session, client, float_samples(20, 52, gain=1.6, noise=0.8))
    full, calls = session.timeline.state(), []

    def staged():
        calls.append(1)
        return {**full, "points": full["points"][:1] if len(calls) == 1 else full["points"]}

    board = Dashboard(_free_port(), staged, "sim://host", "ref.json")
    try:
        dom, console = _render(board.url, tmp_path)
    finally:
        board.close()
    assert console == [] and len(calls) >= 2, (console, calls)
    assert _cell(dom, "v-step") == "2" and _cell(dom, "v-drift") == f"{last.report.drift_score:.3f}"
    assert _cell(dom, "verdict").startswith("alert")
