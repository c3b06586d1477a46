"""`tinyflow eval` through click: exit codes, JSON, report files, the lines that matter."""

import json

import numpy as np
from click.testing import CliRunner

from conftest import corpus_path
from tinyflow.cli.main import cli

HELLO = "tflm/hello_world_int8.tflite"


def _run(*args):
    return CliRunner().invoke(cli, ["eval", *map(str, args)], catch_exceptions=False)


def test_json_report():
    r = _run(corpus_path(HELLO), "--target", "sim://tflm", "--dataset", "random:8", "--json", "--no-progress")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["samples"] == 8 and data["agreement"]["exact_match_rate"] == 1.0 and data["link"]["lost"] == 0
    assert data["device"]["board_id"] == "nano33ble"


def test_table_report_files_and_progress(tmp_path):
    out = tmp_path / "rep"
    r = _run(corpus_path(HELLO), "--dataset", "sine", "--limit", "50", "--report", out)
    assert r.exit_code == 0, r.output
    assert "agreement exact match       1.0000" in r.stdout and "samples lost                0" in r.stdout
    assert "eval [########################] 50/50" in r.stderr
    assert {p.name for p in out.iterdir()} == {"report.json", "report.html", "journal.jsonl", ".tinyflow-eval.lock"}


def test_faults_and_baud_options():
    r = _run(
        corpus_path(HELLO),
        "--dataset",
        "random:30",
        "--inject-faults",
        "ber=1e-4,reset_every=10",
        "--baud",
        "1000000",
        "--timeout",
        "0.5",
        "--json",
        "--no-progress",
        "--seed",
        "2",
    )
    assert r.exit_code == 0, r.output
    link = json.loads(r.stdout)["link"]
    assert link["lost"] == 0 and link["resets"] == link["injected"]["resets"] >= 2 and link["baud"] == 1000000


def test_usage_errors_exit_2():
    r = _run(corpus_path(HELLO), "--dataset", "random:3", "--inject-faults", "bogus=1")
    assert r.exit_code == 2 and "Unknown fault 'bogus=1'" in r.stderr
    r = _run(corpus_path(HELLO), "--dataset", "random:3", "--resume")
    assert r.exit_code == 2 and "--resume needs --report DIR" in r.stderr
    r = _run(corpus_path(HELLO), "--dataset", "random:x")
    assert r.exit_code == 2 and "random:N needs a positive sample count" in r.stderr


def test_data_that_does_not_fit_the_model_exits_1():
    r = _run(corpus_path(HELLO), "--dataset", "digits")
    assert r.exit_code == 1 and "Error: Dataset digits/test has samples of shape (8, 8, 1)" in r.stderr


def test_eval_does_not_import_tensorflow(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys; from tinyflow.cli.main import main\n"
        "try:\n    main(['eval', sys.argv[1], '--dataset', 'random:2', '--json', '--no-progress'])\n"
        "except SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow was imported'\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(corpus_path(HELLO))], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-500:]
    assert json.loads(proc.stdout)["agreement"]["exact_match_rate"] == 1.0


def test_killed_process_resumes_to_the_same_results(tmp_path):
    """SIGKILL mid-run (no clean-up at all), then --resume: same per-sample outputs as one whole run."""
    import signal
    import subprocess
    import sys
    import time

    from tinyflow.workflows.config import EvalConfig
    from tinyflow.workflows.evaluate import evaluate

    model, n = corpus_path("mlperf_tiny/kws_ref_model.tflite"), 60
    journal = tmp_path / "int" / "journal.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "tinyflow.cli.main",
        "eval",
        str(model),
        "--dataset",
        f"random:{n}",
        "--baud",
        "115200",
        "--report",
        str(tmp_path / "int"),
        "--no-progress",
    ]  # ~45 ms a sample
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if journal.exists() and len(journal.read_text().splitlines()) > 10:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(10)
    done = len(journal.read_text().splitlines()) - 1
    assert 10 <= done < n, proc.stderr.read().decode()[-300:]
    resumed = evaluate(
        EvalConfig(model, dataset=f"random:{n}", target="sim://tflm", report_dir=tmp_path / "int", resume=True)
    )
    whole = evaluate(EvalConfig(model, dataset=f"random:{n}", target="sim://tflm"))
    assert resumed.link["resumed"] >= done - 1 and resumed.samples == n and resumed.link["lost"] == 0
    assert all(all(np.array_equal(a, b) for a, b in zip(x, y)) for x, y in zip(resumed.outputs, whole.outputs))
