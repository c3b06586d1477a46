"""Helpers shared by CLI verbs: JSON output, table rendering of reports, option types."""

from __future__ import annotations

import math

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
