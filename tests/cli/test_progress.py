"""The CLI's progress renderer: rich bars with ETA on a terminal, rare plain lines elsewhere."""

from __future__ import annotations

import io

from click.testing import CliRunner

from conftest import corpus_path
from tinyflow.cli._progress import PlainRenderer, RichRenderer, open_renderer, progress_line
from tinyflow.events import Message, Progress, StageFinished, StageStarted

HELLO = "tflm/hello_world_int8.tflite"


class _Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_plain_lines_are_throttled_and_the_last_one_is_always_written():
    out, clock = io.StringIO(), _Clock()
    r = PlainRenderer(out, interval=10.0, clock=clock)
    for done in range(0, 101):
        clock.now += 0.5  # 2 samples a second: 50 s in all
        r(Progress("eval", done, 100))
    lines = out.getvalue().splitlines()
    assert 4 <= len(lines) <= 6, lines  # one per 10 s, not one per sample
    assert lines[-1].startswith("eval [########################] 100/100  2.0/s")
    assert "\r" not in out.getvalue()


def test_plain_rate_and_eta_count_only_this_run_not_resumed_samples():
    out, clock = io.StringIO(), _Clock()
    r = PlainRenderer(out, interval=5.0, clock=clock)
    r(Progress("eval", 60, 100))  # 60 came from the journal
    clock.now += 5.0
    r(Progress("eval", 85, 100))
    assert out.getvalue().splitlines() == [progress_line("eval", 85, 100, 5.0)]
    assert "85/100  5.0/s  eta 3 s" in out.getvalue()


def test_plain_stage_lines_say_what_is_slow_and_how_it_went():
    out = io.StringIO()
    r = PlainRenderer(out)
    r(StageStarted("open", "sim://host: building the firmware on first use"))
    r(StageFinished("open", 12.34))
    r(StageStarted("data"))  # nothing to say until it ends
    r(StageFinished("data", 0.2, "digits: 1257 train"))
    r(StageFinished("quick", 0.01))  # a quick stage without a summary stays silent
    r(Message("no C compiler \x1b[2J"))
    assert out.getvalue().splitlines() == [
        "[    open] sim://host: building the firmware on first use ...",
        "[    open] done (12.3 s)",
        "[    data] digits: 1257 train (0.2 s)",
        "notice: no C compiler \\x1b[2J",  # untrusted text cannot drive the terminal
    ]


def test_terminal_bars_show_count_rate_and_eta():
    from rich.console import Console

    out = io.StringIO()
    r = RichRenderer(Console(file=out, force_terminal=True, width=120))
    r(StageStarted("open", "building the firmware"))
    r(StageFinished("open", 2.0))
    for done in range(0, 41):
        r(Progress("eval", done, 40))
    r(StageFinished("demo", 1.5, "[bold]not markup[/bold]"))
    r.close()
    text = out.getvalue()
    assert "40/40" in text and "eta" in text and "building the firmware" in text
    assert "[    open] done (2.0 s)" in text
    assert "[bold]not markup[/bold]" in text  # names from models are printed, not interpreted


def test_open_renderer_picks_plain_lines_off_a_terminal():
    with open_renderer(io.StringIO()) as r:
        assert isinstance(r, PlainRenderer)


def _eval(*extra):
    from tinyflow.cli.main import cli

    return CliRunner().invoke(cli, ["eval", str(corpus_path(HELLO)), "-d", "random:5", *extra])


def test_eval_renders_progress_on_stderr_and_no_progress_turns_it_off():
    shown = _eval()
    assert shown.exit_code == 0, shown.output
    assert "eval [########################] 5/5" in shown.stderr
    assert "5/5" not in shown.stdout  # the report stays alone on stdout
    quiet = _eval("--no-progress")
    assert quiet.exit_code == 0 and "eval [" not in quiet.stderr


def test_no_progress_still_shows_notices_and_warnings():
    out = io.StringIO()
    r = PlainRenderer(out, interval=0.0, progress=False)
    r(StageStarted("open", "building"))
    r(Progress("eval", 5, 5))
    r(StageFinished("open", 30.0, "opened"))
    r(Message("2 damaged line(s)", "warning"))
    assert out.getvalue() == "warning: 2 damaged line(s)\n"


def test_a_step_that_runs_again_starts_its_rate_afresh():
    out, clock = io.StringIO(), _Clock()
    r = PlainRenderer(out, interval=100.0, clock=clock)
    for epoch in range(1, 4):  # structured fine-tuning: 3 epochs at 1 a second
        clock.now += 1.0
        r(Progress("train", epoch, 3))
    for epoch in range(1, 3):  # unstructured fine-tuning: 2 epochs at 1 every 4 s
        clock.now += 4.0
        r(Progress("train", epoch, 2))
    assert out.getvalue().splitlines()[-1].startswith("train [########################] 2/2  0.2/s")
