"""The CLI's renderer of progress events (tinyflow.events) on stderr.

On a terminal: rich bars with rate and ETA, a spinner while a stage without a count runs (a
first firmware build), and a permanent line per finished stage. Elsewhere (CI logs, pipes): the
same stage lines, and a plain progress line at most every `interval` seconds plus the last one,
so a log gets a few lines per step instead of a redraw per sample. stdout stays for the report.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Iterator

from tinyflow.escaping import terminal_text
from tinyflow.events import Event, Message, Progress, StageFinished, StageStarted

PLAIN_INTERVAL = 10.0  # seconds between plain progress lines of one step
SLOW_STAGE = 1.0  # a stage without a summary line gets one only if it took this long


def stage_line(event: StageFinished) -> str | None:
    """`[   train] tiny_cnn: ... (12.3 s)`, or None for a quick stage that has nothing to say."""
    if event.summary:
        return f"[{event.stage:>8}] {terminal_text(event.summary)} ({event.seconds:.1f} s)"
    if event.seconds >= SLOW_STAGE:
        return f"[{event.stage:>8}] done ({event.seconds:.1f} s)"
    return None


def progress_line(stage: str, done: int, total: int, rate: float, detail: str = "") -> str:
    """`eval [######..................] 25/100  5.0/s  eta 15 s` (plain text, one line)."""
    frac = min(done / total, 1.0) if total > 0 else 1.0
    width = 24
    bar = "#" * int(frac * width) + "." * (width - int(frac * width))
    eta = f"eta {(total - done) / rate:.0f} s" if rate > 0 and done < total else ""
    text = f"{stage} [{bar}] {done}/{total}  {rate:.1f}/s  {eta}".rstrip()
    return f"{text}  {terminal_text(detail)}" if detail else text


class PlainRenderer:
    """Events as plain lines; progress lines throttled to one per `interval` seconds per stage.

    With `progress=False` (`--no-progress`) only messages (notices, warnings) are written.
    """

    def __init__(self, stream=None, interval: float = PLAIN_INTERVAL, clock=time.monotonic, progress: bool = True):
        self.stream, self.interval, self.clock = stream or sys.stderr, interval, clock
        self.progress = progress
        self._first: dict[str, tuple[float, int]] = {}  # stage -> (time, done) of its first event
        self._last: dict[str, float] = {}
        self._done: dict[str, int] = {}

    def __call__(self, event: Event) -> None:
        if isinstance(event, Message):
            self._write(f"{event.level}: {terminal_text(event.text)}")
        elif not self.progress:
            return
        elif isinstance(event, Progress):
            self._progress(event)
        elif isinstance(event, StageStarted) and event.detail:
            self._write(f"[{event.stage:>8}] {terminal_text(event.detail)} ...")
        elif isinstance(event, StageFinished):
            line = stage_line(event)
            if line:
                self._write(line)

    def _progress(self, event: Progress) -> None:
        now = self.clock()
        if event.done < self._done.get(event.stage, 0):  # the step runs again (a second fine-tuning)
            del self._first[event.stage], self._last[event.stage]
        self._done[event.stage] = event.done
        start, first_done = self._first.setdefault(event.stage, (now, event.done))
        last = self._last.setdefault(event.stage, now)  # the first line after one interval, or at the end
        if now - last < self.interval and event.done < event.total:
            return
        self._last[event.stage] = now
        # the rate counts only what this run did: resumed samples arrive as the first event's `done`
        rate = (event.done - first_done) / (now - start) if now > start else 0.0
        self._write(progress_line(event.stage, event.done, event.total, rate, event.detail))

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Nothing is left open: every line was written whole."""


class RichRenderer:
    """Events as rich bars on a terminal (one task per stage)."""

    def __init__(self, console):
        from rich import progress as rp

        self._bars = rp.Progress(*_columns(), console=console)
        self._tasks: dict[str, int] = {}
        self._bars.start()

    def __call__(self, event: Event) -> None:
        if isinstance(event, StageStarted):
            self._task(event.stage, None, terminal_text(event.detail))
        elif isinstance(event, Progress):
            task = self._task(event.stage, event.total, terminal_text(event.detail))
            if event.done < self._get(task).completed:  # the step runs again (a second fine-tuning)
                self._bars.reset(task, total=event.total)
            speed = self._get(task).speed
            rate = f"{speed:.1f}/s" if speed else ""
            count = f"{event.done}/{event.total}"
            self._bars.update(task, completed=event.done, total=event.total, rate=rate, count=count)
        elif isinstance(event, StageFinished):
            task = self._tasks.pop(event.stage, None)
            if task is not None and self._get(task).total is None:
                self._bars.remove_task(task)  # a spinner: its line below says how it went
            line = stage_line(event)
            if line:
                self._bars.console.print(line, markup=False, highlight=False)
        elif isinstance(event, Message):
            self._bars.console.print(f"{event.level}: {terminal_text(event.text)}", markup=False, highlight=False)

    def _task(self, stage: str, total: int | None, detail: str) -> int:
        if stage not in self._tasks:
            self._tasks[stage] = self._bars.add_task(
                terminal_text(stage), total=total, count="", rate="", detail=detail
            )
        else:
            self._bars.update(self._tasks[stage], detail=detail)
        return self._tasks[stage]

    def _get(self, task_id: int):
        return next(t for t in self._bars.tasks if t.id == task_id)

    def close(self) -> None:
        self._bars.stop()


def _columns() -> list:
    """Spinner, stage, bar, then count, rate and ETA only once the stage has a count."""
    from rich import progress as rp
    from rich.text import Text

    class Eta(rp.TimeRemainingColumn):
        def render(self, task):
            return Text("") if task.total is None else Text.assemble("eta ", super().render(task))

    return [
        rp.SpinnerColumn(finished_text=" "),
        rp.TextColumn("{task.description}", markup=False),
        rp.BarColumn(),
        rp.TextColumn("{task.fields[count]}", markup=False),
        rp.TextColumn("{task.fields[rate]}", markup=False),
        Eta(),
        rp.TextColumn("{task.fields[detail]}", markup=False),
    ]


@contextmanager
def open_renderer(stream=None, progress: bool = True) -> Iterator[PlainRenderer | RichRenderer]:
    """The renderer for `stream` (stderr by default): rich on a terminal, plain lines elsewhere.

    progress=False: messages only, as plain lines (no bars, no stage lines).
    """
    stream = stream or sys.stderr
    if progress and getattr(stream, "isatty", lambda: False)():
        from rich.console import Console

        renderer: PlainRenderer | RichRenderer = RichRenderer(Console(file=stream))
    else:
        renderer = PlainRenderer(stream, progress=progress)
    try:
        yield renderer
    finally:
        renderer.close()
