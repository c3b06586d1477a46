"""What `tinyflow` prints around the reports (issue 15): thresholds, Ctrl-C, --quiet and --verbose."""

from __future__ import annotations

import json
import shlex

from click.testing import CliRunner

from conftest import corpus_path
from tinyflow.cli.main import cli
from tinyflow.events import Progress, subscribe

HELLO = "tflm/hello_world_int8.tflite"


def _eval(*args):
    return CliRunner().invoke(cli, ["eval", str(corpus_path(HELLO)), *map(str, args)], catch_exceptions=False)


def test_thresholds_give_a_verdict_in_text_html_and_json_and_exit_1_on_fail(tmp_path):
    ok = _eval("--dataset", "sine", "--limit", "20", "--min-agreement", "0.99", "--report", tmp_path / "ok")
    assert ok.exit_code == 0, ok.output
    assert "PASS: every threshold is met" in ok.stdout
    assert "PASS" in (tmp_path / "ok" / "report.html").read_text()
    bad = _eval("--dataset", "sine", "--limit", "20", "--max-latency-ms", "1e-9", "--report", tmp_path / "bad")
    assert bad.exit_code == 1
    assert bad.stderr.strip().splitlines()[-1].startswith("Error: Evaluation failed its thresholds: Latency p99")
    checks = json.loads((tmp_path / "bad" / "report.json").read_text())["checks"]
    assert [c["passed"] for c in checks] == [False] and checks[0]["limit"] == 1e-9
    assert "FAIL: Latency p99" in (tmp_path / "bad" / "report.html").read_text()


def test_a_threshold_nobody_measured_fails():
    r = _eval("--dataset", "random:4", "--min-accuracy", "0.5", "--no-progress")  # random:N has no labels
    assert r.exit_code == 1 and "Accuracy not measured" in r.stderr


class _StopAfter:
    def __init__(self, n):
        self.n = n

    def __call__(self, event):
        if isinstance(event, Progress) and event.stage == "eval" and event.done >= self.n:
            raise KeyboardInterrupt


def test_ctrl_c_prints_the_exact_resume_command_and_it_resumes(tmp_path):
    rep = tmp_path / "my report"  # a space: the printed command must be quoted for the shell
    with subscribe(_StopAfter(5)):
        r = _eval("--dataset", "random:12", "--seed", "4", "--report", rep)
    assert r.exit_code == 130
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith("Error: interrupted. Resume with: tinyflow eval ") and line.endswith(" --resume")
    words = shlex.split(line.split("Resume with: ", 1)[1])
    assert words[words.index("--report") + 1] == str(rep)
    again = CliRunner().invoke(cli, words[1:] + ["--json"], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    data = json.loads(again.stdout)
    assert data["samples"] == 12 and data["link"]["resumed"] >= 5 and data["link"]["lost"] == 0


def test_ctrl_c_without_a_report_dir_says_how_to_make_runs_resumable():
    with subscribe(_StopAfter(2)):
        r = _eval("--dataset", "random:12")
    assert r.exit_code == 130 and "give --report DIR" in r.stderr


def test_quiet_drops_progress_and_notes_but_keeps_the_report(tmp_path):
    r = CliRunner().invoke(
        cli,
        ["--quiet", "eval", str(corpus_path(HELLO)), "--dataset", "sine", "--limit", "10", "--report", tmp_path],
        catch_exceptions=False,
    )
    assert r.exit_code == 0 and r.stderr == "" and "agreement exact match" in r.stdout


def test_quiet_and_verbose_together_are_a_usage_error():
    r = CliRunner().invoke(cli, ["--quiet", "--verbose", "boards", "list"])
    assert r.exit_code == 2 and "--quiet and --verbose" in r.output


def test_verbose_reaches_tensorflow_through_the_environment(monkeypatch):
    from tinyflow.model import noise

    monkeypatch.setenv(noise.VERBOSE_ENV, "0")  # recorded, so the "1" the CLI sets is undone after the test
    assert not noise.verbose()
    r = CliRunner().invoke(cli, ["--verbose", "boards", "list"], catch_exceptions=False)
    assert r.exit_code == 0 and noise.verbose()


def test_demo_says_where_its_reports_are():
    from tinyflow.cli.demo import report_locations

    line = report_locations({"report": "d/report.json", "eval_report": ["d/eval/report.json", "d/eval/report.html"]})
    assert line == "report: d/report.json; open d/eval/report.html in a browser"
    assert report_locations({"report": "d/report.json"}) == "report: d/report.json"


def test_inspect_puts_the_verdict_first_and_tensors_behind_a_flag():
    model = str(corpus_path("tflm/person_detect.tflite"))
    short = CliRunner().invoke(cli, ["inspect", model, "-b", "nano33ble"], catch_exceptions=False)
    assert short.exit_code == 0
    lines = short.stdout.splitlines()
    assert lines[3].startswith("Fit on nano33ble: fits") and "Tensors" not in short.stdout
    assert len(lines) < 45 and lines[-1] == "89 tensors, 31 ops: the tables with --tensors"
    full = CliRunner().invoke(cli, ["inspect", model, "-b", "nano33ble", "--tensors"], catch_exceptions=False)
    assert "Tensors" in full.stdout and "Per op" in full.stdout and len(full.stdout.splitlines()) > 120
    assert full.stdout.index("Fit on nano33ble") < full.stdout.index("Tensors")
