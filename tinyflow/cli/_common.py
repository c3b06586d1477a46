"""Helpers shared by CLI verbs: JSON output, table rendering of reports, option types."""

from __future__ import annotations

import math
from contextlib import contextmanager

import click

from tinyflow.escaping import terminal_text
from tinyflow.report import to_json


class FiniteFloat(click.FloatRange):
    """A float option that refuses nan and inf, then checks the range like click.FloatRange.

    click.FLOAT and click.FloatRange accept "nan" (every comparison with it is false) and "inf"
    (when no max is set): a timeout of nan or inf would wait forever. Every float option of every
    verb uses this type (a test checks it).
    """

    def convert(self, value, param, ctx):
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)


# numpy and TensorFlow take 32-bit unsigned seeds; a negative one is a traceback deep inside them.
SEED = click.IntRange(0, 2**32 - 1)


def emit(report, as_json: bool) -> None:
    """Print a report object: its to_dict() as JSON, or its str() as a table.

    Tables quote model, tensor and op names from untrusted files and devices: each line goes
    through terminal_text, so such a name cannot add lines or send terminal escapes (JSON
    escapes control characters itself).
    """
    if as_json:
        click.echo(to_json(report.to_dict()))
    else:
        click.echo("\n".join(terminal_text(line) for line in str(report).split("\n")))
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get(TRACK_KEY):  # `tinyflow --track`: log the run (cli/runs.py)
        from tinyflow.cli.runs import record_run

        record_run(ctx, report)


QUIET_KEY = "tinyflow.quiet"  # ctx.meta key: `tinyflow --quiet` was given
TRACK_KEY = "tinyflow.track"  # ctx.meta key: the tracking URI of `tinyflow --track` (None: off)


def quiet() -> bool:
    """True when `tinyflow --quiet` was given: no progress and no `wrote ...` notes on stderr."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.meta.get(QUIET_KEY))


def note(text: str) -> None:
    """A line for the person at the terminal (where a file went), on stderr unless --quiet."""
    if not quiet():
        click.echo(text, err=True)


@contextmanager
def rendering(progress: bool = True):
    """Show the events of the block on stderr (tinyflow.events; cli/_progress.py draws them).

    progress=False (`--no-progress`) or `tinyflow --quiet`: notices and warnings only, no bars or
    stage lines.
    """
    import sys

    from tinyflow.cli._progress import open_renderer
    from tinyflow.events import subscribe

    with open_renderer(sys.stderr, progress and not quiet()) as renderer, subscribe(renderer):
        yield
