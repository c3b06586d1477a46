"""`tinyflow profile MODEL --target URL`: per-op time and memory of a model on a target."""

from __future__ import annotations

import click

from tinyflow.cli._common import (
    DEFAULT_TARGET,
    board_option,
    emit,
    note,
    rendering,
    target_board,
    timeout_option,
)


@click.command("profile")
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--target",
    "-t",
    default=DEFAULT_TARGET,
    show_default=True,
    help="Board port or simulator URL: sim://tflm, sim://host, sim://qemu-m4[?board=ID], /dev/ttyACM0, socket://...",
)
@board_option("Board id whose budgets and clock apply (the same as ?board=ID in a sim:// --target).")
@click.option(
    "--runs",
    default=1,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Inferences to profile; the median per op is shown (real boards jitter, QEMU does not).",
)
@timeout_option()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Also write DIR/profile.html with a per-op chart.",
)
def profile(model, target, board, runs, timeout, as_json, report_dir):
    """Per-op time (ticks, share, estimated time), flash, static RAM, stack high-water and arena of MODEL on a target."""
    from tinyflow.workflows.config import ProfileConfig
    from tinyflow.workflows.profile import profile_model

    target, board = target_board(target, board)
    config = ProfileConfig(model, target=target, board=board, runs=runs, timeout=timeout)
    with rendering():
        report = profile_model(config)
    if report_dir:
        path = report.write_html(report_dir)
        note(f"report: {path}")
    emit(report, as_json)
