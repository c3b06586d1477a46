"""A progress bar on stderr (one line redrawn on a terminal, a few plain lines otherwise)."""

from __future__ import annotations

import sys
import time


class Progress:
    """Counts finished samples and redraws at most every `interval` seconds.

    Args:
        total: samples in the whole run (including those already done when resuming).
        done: samples already done (resumed from the journal).
        stream: where to draw (stderr by default).
    """

    def __init__(self, total: int, done: int = 0, stream=None, label: str = "eval", interval: float = 0.2):
        self.total, self.done, self.label = total, done, label
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        # off a terminal a redraw is a new line: draw rarely
        self.interval = interval if self.tty else max(interval, 10.0)
        self._start = time.monotonic()
        self._first = done
        self._last = self._start  # first draw after one interval (or at the end)

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= self.interval or self.done >= self.total:
            self._last = now
            self._draw(now)

    def line(self, now: float | None = None) -> str:
        """The text of the bar: `eval [#####.....] 50/100  12.3/s  eta 4 s`."""
        now = time.monotonic() if now is None else now
        frac = self.done / self.total if self.total else 1.0
        width = 24
        bar = "#" * int(frac * width) + "." * (width - int(frac * width))
        elapsed = max(now - self._start, 1e-9)
        rate = (self.done - self._first) / elapsed
        eta = f"eta {(self.total - self.done) / rate:.0f} s" if rate > 0 and self.done < self.total else ""
        return f"{self.label} [{bar}] {self.done}/{self.total}  {rate:.1f}/s  {eta}".rstrip()

    def _draw(self, now: float) -> None:
        text = self.line(now)
        self.stream.write(("\r" + text + "\x1b[K") if self.tty else text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line (a terminal keeps the last drawn state)."""
        if self.tty:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
