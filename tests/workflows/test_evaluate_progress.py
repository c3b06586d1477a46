"""The progress bar: one redrawn line on a terminal, rare plain lines elsewhere."""

import io

from tinyflow.workflows.progress import Progress


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_terminal_bar_redraws_one_line_and_ends_it():
    out = _Tty()
    bar = Progress(4, done=1, stream=out, interval=0.0)
    for _ in range(3):
        bar.update()
    bar.close()
    text = out.getvalue()
    assert text.count("\r") >= 3 and text.endswith("\n")
    assert "eval [########################] 4/4" in text and "1/4" not in text  # started from the resumed 1


def test_pipe_gets_the_final_line_only_when_fast():
    out = io.StringIO()
    bar = Progress(50, stream=out)
    for _ in range(50):
        bar.update()
    bar.close()
    lines = out.getvalue().splitlines()
    assert lines == [lines[-1]] and lines[-1].startswith("eval [########################] 50/50")
    assert "\r" not in out.getvalue()


def test_line_shows_rate_and_eta():
    bar = Progress(100, stream=io.StringIO())
    bar.done = 25
    assert "25/100" in bar.line(now=bar._start + 5.0) and "5.0/s" in bar.line(now=bar._start + 5.0)
    assert "eta 15 s" in bar.line(now=bar._start + 5.0)
