"""`tinyflow inspect MODEL`: ops, tensors, MACs, TFLM op support, measured arena and board fit."""

from __future__ import annotations

from pathlib import Path

import click

from tinyflow.cli._common import emit, note


@click.command("inspect")
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option("--board", "-b", default=None, help="Board id to check the fit against (see `tinyflow boards list`).")
@click.option(
    "--runtime",
    type=click.Choice(["tflm", "aot"]),
    default="tflm",
    show_default=True,
    help="tflm: TFLite Micro interpreter (measured arena); aot: compiled C (the compiler's memory plan).",
)
@click.option(
    "--no-arena", is_flag=True, help="Skip measuring the TFLM arena (subprocess probes, cached by model hash)."
)
@click.option("--check", is_flag=True, help="With --board: exit 1 after the report when the model does not fit.")
@click.option("--tensors", is_flag=True, help="Also list every op and every tensor (JSON always has them).")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write DIR/inspect.html: verdict, budget, memory timeline and ops.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def inspect(model, board, runtime, no_arena, check, tensors, report_dir, as_json):
    """Ops, tensors, parameters, MACs, weight bytes, TFLM arena and board fit of a .tflite MODEL.

    Needs no TensorFlow. With --runtime tflm, ops TFLite Micro cannot run are an error (exit 1)
    unless --no-arena.
    """
    from tinyflow.inspection import inspect_model
    from tinyflow.workflows.report_html import write_page

    report = inspect_model(model, board=board, runtime=runtime, arena=not no_arena)
    report.show_tensors = tensors
    if report_dir is not None:
        note(f"report: {write_page(report_dir, 'inspect.html', report.to_dict())}")
    emit(report, as_json)
    if check and report.fit is not None:
        report.fit.raise_if_not_fit()
