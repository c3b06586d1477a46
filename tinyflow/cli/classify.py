"""`tinyflow classify MODEL --target URL`: live predictions from a device's sensor (application mode)."""

from __future__ import annotations

import sys

import click

from tinyflow.cli._common import (
    AliasedOption,
    FiniteFloat,
    board_option,
    emit,
    output_option,
    rendering,
    target_board,
    timeout_option,
)
from tinyflow.escaping import terminal_text

BAR_WIDTH = 30
SHOWN_CLASSES = 10


@click.command("classify")
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--target",
    "-t",
    required=True,
    help="A device with a sensor: sim://host?sensor=FILE.wav|FILE.csv, sim://qemu-m4?sensor=..., /dev/ttyACM0.",
)
@board_option()
@click.option(
    "--stride",
    type=click.IntRange(0, 2**32 - 1),
    default=0,
    show_default=True,
    help="Frames between window starts; 0 = the window (no overlap).",
)
@click.option("--count", "-n", type=click.IntRange(1, None), default=None, help="Stop after N predictions.")
@click.option(
    "--duration",
    "seconds",
    cls=AliasedOption,
    hidden_aliases=("--seconds",),
    type=FiniteFloat(0.001, 1e7),
    default=None,
    help="Stop after S seconds (--seconds is a window's length in capture and data segment).",
)
@click.option(
    "--class-names",
    default=None,
    help="Labels of output 0 in order: yes,no,up,down or @FILE (one per line). Default: the model's "
    "sidecar's (<model>.frontend.json), else class indices; names that differ from the sidecar's are refused.",
)
@timeout_option()
@click.option(
    "--sample-below",
    type=FiniteFloat(0, 1, min_open=True),
    default=None,
    help="Opt-in sampling: bring back the raw windows whose top-1 confidence is below this (needs --output).",
)
@output_option(
    "output",
    type=click.Path(file_okay=False),
    default=None,
    help="Dataset store the sampled windows go into, labelled 'unlabelled' (created if missing).",
)
@click.option(
    "--frontend",
    type=click.Choice(["micro_speech", "mfcc", "imu"]),
    default=None,
    help="The model's feature front end when it has no <model>.frontend.json (its default settings); "
    "the firmware is built with it. A different one than the sidecar's is refused.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per prediction, one per line (no summary).")
def classify(
    model, target, board, stride, count, seconds, class_names, timeout, sample_below, output, frontend, as_json
):
    """Run MODEL's front end and model on the device's sensor; show each prediction as it comes.

    Stops after --count or --seconds, when a played sensor file ends, or on Ctrl-C. Without a
    terminal (or with --json) each prediction is one line. Raw inputs stay on the device unless
    --sample-below and --output opt in to bring back the unsure windows for labelling."""
    from tinyflow.workflows.classify import ClassifyConfig, classify_live, parse_class_names

    target, board = target_board(target, board)
    config = ClassifyConfig(
        model,
        target=target,
        board=board,
        stride=stride,
        count=count,
        seconds=seconds,
        class_names=parse_class_names(class_names),
        timeout=timeout,
        sample_below=sample_below or 0.0,
        output=output,
        frontend=frontend,
    )
    if as_json:
        from tinyflow.report import to_json

        with rendering():
            classify_live(config, on_prediction=lambda p: click.echo(to_json(p.to_dict(), indent=None)))
        return
    live = sys.stdout.isatty()
    with rendering(progress=not live):
        report = _run_live(config) if live else classify_live(config, on_prediction=_plain_line)
    emit(report, False)


def _plain_line(p) -> None:
    times = f"read {p.read_us / 1000:.2f} ms, features {p.frontend_us / 1000:.2f} ms, model {p.model_us / 1000:.2f} ms"
    click.echo(f"#{p.index}  {terminal_text(p.label, 64)}  {p.confidence:.3f}  ({times})")


def _run_live(config):
    """The rich view: the latest label, a confidence bar per class, per-stage time and the rate."""
    import time

    from rich.console import Console
    from rich.live import Live

    from tinyflow.workflows.classify import classify_live

    first: list[float] = []  # when the first prediction came: the rate counts from there

    def show(p) -> None:
        if not first:
            first.append(time.monotonic())
        view.update(_panel(p, config, time.monotonic() - first[0]))

    with Live(console=Console(), refresh_per_second=8, transient=False) as view:
        return classify_live(config, on_prediction=show)


def _panel(p, config, elapsed: float):
    from rich.table import Table

    from tinyflow.workflows.classify import label_of

    grid = Table.grid(padding=(0, 2))
    rate = p.index / elapsed if elapsed > 0 else 0.0
    grid.add_row(f"[bold]{_safe(p.label)}[/bold]", f"{p.confidence:.2f}", f"window #{p.index}  {rate:.1f}/s")
    order = sorted(range(len(p.confidences)), key=lambda i: -p.confidences[i])[:SHOWN_CLASSES]
    for i in order:
        c = p.confidences[i]
        bar = "█" * int(round(max(0.0, min(1.0, c)) * BAR_WIDTH))
        grid.add_row(_safe(label_of(i, config.class_names)), f"{c:.2f}", bar)
    grid.add_row(
        "time",
        "",
        f"read {p.read_us / 1000:.2f} ms · features {p.frontend_us / 1000:.2f} ms · model {p.model_us / 1000:.2f} ms",
    )
    return grid


def _safe(text: str) -> str:
    """A label from the user or a file, for rich markup: one line, no markup of its own."""
    from rich.markup import escape

    return escape(terminal_text(text, 64))
