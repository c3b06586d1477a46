"""Each HTML report opened in real headless Chromium: it renders, logs nothing to the console and
shows its key elements (issue 15). Chromium is Debian's (`./run setup`, capability `browser`)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import corpus_path, missing
from tinyflow import metrics

RENDER_TIMEOUT = 90  # seconds for one page: start, render, dump


def render(page: Path, scratch: Path) -> tuple[str, list[str]]:
    """(the DOM after rendering, console messages) of `page` in headless Chromium.

    Chromium runs in its own session so that it and its helper processes are killed by its id
    however the run ends; `--enable-logging=stderr` prints each console message as a CONSOLE line.
    """
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        missing("chromium (apt-get install chromium)")
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",  # tests run as root in containers, where the sandbox cannot start
        "--disable-gpu",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={scratch / 'chromium-profile'}",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=RENDER_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium did not render {page.name} within {RENDER_TIMEOUT} s")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # helpers (zygote, gpu) that outlive the browser
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    console = [line for line in err.decode(errors="replace").splitlines() if ":CONSOLE" in line]
    return out.decode(), console


def _svg(dom: str, label: str) -> str:
    match = re.search(rf"<svg[^>]*aria-label=\"{re.escape(label)}\".*?</svg>", dom, re.S)
    assert match, f"no chart labelled {label!r} in the rendered page"
    return match.group(0)


def _texts(svg: str) -> str:
    return " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg))


def test_the_console_check_catches_errors(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text("<p>x</p><script>console.error('boom'); notDefined();</script>")
    _, console = render(page, tmp_path)
    assert any("boom" in line for line in console) and any("notDefined" in line for line in console)


def test_eval_report_of_a_classifier_renders_with_names_verdict_and_charts(tmp_path):
    from tinyflow.workflows.evaluate import EvalReport

    y, p = [0, 1, 2, 2, 1, 0], [0, 1, 2, 1, 1, 0]
    lat = metrics.latency([1500.0, 1520.0, 1710.0, 2400.0, 1490.0, 1600.0], wall_seconds=0.1)
    counts, edges = metrics.histogram([1500.0, 1520.0, 1710.0, 2400.0, 1490.0, 1600.0])
    lat["histogram"] = {"counts": counts, "edges": edges}
    report = EvalReport(
        model="kws.tflite",
        model_sha256="ab" * 32,
        target="sim://host?board=nano33ble",
        dataset="gestures",
        task="classification",
        samples=6,
        metrics=metrics.classification(y, p, num_classes=3),
        agreement={"exact_match_rate": 1.0, "top1_agreement": 1.0, "max_abs_diff": 0},
        latency=lat,
        link={"lost": 0, "duplicated": 0},
        class_names=["idle", "wave", "<punch>"],
        thresholds={"min_accuracy": 0.95},
    )
    _, page = report.write(tmp_path / "rep")
    dom, console = render(page, tmp_path)
    assert console == []
    assert re.search(r'id="verdict" class="banner fail">FAIL: Accuracy<', dom)
    assert "kws.tflite" in dom and "tinyflow 0." in dom and "Outputs identical to the TFLM reference" in dom
    heat = _texts(_svg(dom, "Confusion matrix"))
    assert "idle" in heat and "&lt;punch&gt;" in heat and "predicted class" in heat and "true class" in heat
    hist = _texts(_svg(dom, "Latency histogram"))
    assert "latency per inference (ms)" in hist and "samples" in hist and "None" not in dom


def test_eval_report_from_the_cli_renders(tmp_path):
    from tinyflow.cli.main import cli

    out = tmp_path / "rep"
    args = ["eval", str(corpus_path("tflm/hello_world_int8.tflite")), "-d", "sine", "--limit", "30"]
    r = CliRunner().invoke(cli, [*args, "--min-agreement", "0.99", "--report", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    dom, console = render(out / "report.html", tmp_path)
    assert console == []
    assert 'class="banner pass">PASS: every threshold is met<' in dom
    assert "Mean absolute error" in dom and "sine/test (regression)" in dom
    assert "latency per inference" in _texts(_svg(dom, "Latency histogram"))


def test_profile_report_renders_a_bar_per_op(tmp_path):
    from tinyflow.workflows import profile as prof

    report = prof.build_report(
        model="m.tflite",
        target="sim://host",
        info={"runtime": "aot", "board": "nano33ble", "ticks_per_second": 1_000_000, "arena_bytes": 4096},
        op_ticks_runs=[[100, 300, 50]],
        total_ticks_runs=[470],
        op_names=["CONV_2D", "FULLY_CONNECTED", "SOFTMAX"],
        stats={"arena_used": 3000, "stack_high_water": 812},
    )
    dom, console = render(report.write_html(tmp_path / "prof"), tmp_path)
    assert console == []
    bars = _texts(_svg(dom, "Time per op"))
    assert all(name in bars for name in ("0 CONV_2D", "1 FULLY_CONNECTED", "2 SOFTMAX")) and "time per op (µs)" in bars
    assert "470.0 µs" in dom and "3,000 B of 4,096 B" in dom and np.isclose(300 / 470, 0.638, atol=1e-3)


def test_inspect_report_renders_verdict_budget_and_memory_timeline(tmp_path):
    from tinyflow.cli.main import cli

    model = str(corpus_path("tflm/person_detect.tflite"))
    r = CliRunner().invoke(cli, ["inspect", model, "-b", "nano33ble", "--report", str(tmp_path / "i")])
    assert r.exit_code == 0, r.output
    assert r.stderr.strip() == f"report: {tmp_path / 'i' / 'inspect.html'}"
    dom, console = render(tmp_path / "i" / "inspect.html", tmp_path)
    assert console == []
    assert 'class="banner pass">nano33ble: fits' in dom and "Peak live activations" in dom
    timeline = _texts(_svg(dom, "Memory timeline"))
    assert "live activation bytes" in timeline and "TFLM arena (measured)" in timeline
    assert "op (execution order)" in timeline and "80,000" in timeline
    assert dom.count("DEPTHWISE_CONV_2D</th>") == 14
