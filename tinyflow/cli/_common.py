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


# Where eval and demo run a model when no --target is given (and profile too): the TFLM reference
# runtime, the one target that needs no C compiler, ARM toolchain or board, so the first command
# a newcomer types works on any machine. `--target sim://host` runs the compiled firmware instead.
DEFAULT_TARGET = "sim://tflm"


class AliasedOption(click.Option):
    """An option whose old spellings (`--out`, `--data`) still parse but are not shown in help.

    One spelling per concept across verbs (`--output/-o`, `--dataset/-d`); scripts written for the
    old names keep working for a release. Pass the old names in `hidden_aliases`.
    """

    def __init__(self, param_decls, hidden_aliases=(), **kwargs):
        super().__init__([*param_decls, *hidden_aliases], **kwargs)
        self.hidden_aliases = tuple(hidden_aliases)

    def get_help_record(self, ctx):
        shown = [name for name in self.opts if name not in self.hidden_aliases]
        saved, self.opts = self.opts, shown
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = saved


def output_option(dest: str, *, help: str, aliases=("--out",), **kwargs):
    """`--output/-o` for what a verb writes (a file or a folder); old spellings are hidden aliases."""
    return click.option("--output", "-o", dest, cls=AliasedOption, hidden_aliases=aliases, help=help, **kwargs)


def dataset_option(dest: str = "dataset", *, help: str, aliases=("--data",), **kwargs):
    """`--dataset/-d` for the data a verb reads; old spellings are hidden aliases."""
    return click.option("--dataset", "-d", dest, cls=AliasedOption, hidden_aliases=aliases, help=help, **kwargs)


def count_option(dest: str = "count", *, help: str, aliases=(), **kwargs):
    """`--count/-n N` for how many items a verb processes, records or shows (samples, windows,
    predictions, runs); `-n` means nothing else in any verb. Old spellings (`--limit`) are hidden aliases."""
    return click.option("--count", "-n", dest, cls=AliasedOption, hidden_aliases=aliases, help=help, **kwargs)


def report_option(page: str, *, help: str):
    """`--report DIR` for a verb that writes DIR/<page> after long work (training, quantization): a
    folder that cannot be written fails when the options are parsed, not after the work."""

    def check(ctx, param, value):
        if value is not None and not ctx.resilient_parsing:
            from pathlib import Path

            from tinyflow.outputs import check_file_target

            check_file_target(Path(value) / page)
        return value

    return click.option("--report", "report_dir", type=click.Path(file_okay=False), callback=check, help=help)


def timeout_option():
    """`--timeout S` for verbs that talk to a device: how long a complete reply frame may take
    before the request is retried (the link's per-request deadline)."""
    return click.option(
        "--timeout",
        type=FiniteFloat(0.1, 3600),
        default=5.0,
        show_default=True,
        help="Seconds for a complete reply frame before the request is retried.",
    )


def board_option(help: str = "Board id (tinyflow boards list); the same as ?board=ID in a sim:// target URL."):
    """`--board/-b` for verbs that run on a target; merge it with the URL through target_board()."""
    return click.option("--board", "-b", default=None, help=help)


def target_board(target: str, board: str | None) -> tuple[str, str | None]:
    """The target URL and board once `--board` and the URL's `?board=` are reconciled.

    The same board in both is fine; two different boards is a usage error (the simulators would
    otherwise quietly pick one). A board given only with --board is written into a sim:// URL, so
    every layer below sees one board. Returns (target, board or None).

    Raises:
        UsageError: the two boards differ (one `Error:` line, exit 2).
    """
    from urllib.parse import parse_qs, urlsplit

    from tinyflow.errors import UsageError

    parts = urlsplit(target)
    in_url = parse_qs(parts.query).get("board", [None])[-1] if parts.scheme == "sim" else None
    if board and in_url and board != in_url:
        raise UsageError(
            f"--board {board} contradicts ?board={in_url} in --target {target}",
            "Give the board once, or the same board in both.",
        )
    if board and parts.scheme == "sim" and not in_url:
        target = f"{target}{'&' if parts.query else '?'}board={board}"
    return target, board or in_url
