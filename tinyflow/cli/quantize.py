"""`tinyflow quantize`: full-integer int8 post-training quantization of a .keras model."""

from __future__ import annotations

import click

from tinyflow.cli._common import SEED, dataset_option, emit, note, output_option, rendering, report_option


@click.command("quantize")
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@dataset_option("data", required=True, help="The dataset: calibration from its train split, metrics on its test split.")
@output_option(
    "out",
    type=click.Path(dir_okay=False),
    default="model_int8.tflite",
    show_default=True,
    help="Where to write the int8 model (.tflite).",
)
@click.option(
    "--calibration",
    type=click.IntRange(1, 100_000),
    default=200,
    show_default=True,
    help="Representative samples for the int8 ranges.",
)
@click.option(
    "--seed", type=SEED, default=0, show_default=True, help="Same seed as training, so the test split matches."
)
@click.option(
    "--qat",
    is_flag=True,
    help="Quantization-aware training first: fine-tune a graph that simulates the int8 kernels, then convert "
    "with the ranges it learned (docs/optimization.md).",
)
@click.option(
    "--epochs",
    type=click.IntRange(1, 1000),
    default=None,
    help="QAT epochs (with --qat; default 3; early stopping on the validation split).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@report_option("quantize.html", help="Also write DIR/quantize.html: float vs int8 metrics and a per-layer SQNR chart.")
def quantize(model, data, out, calibration, seed, qat, epochs, as_json, report_dir):
    """Quantize MODEL to int8 (per-channel weights, int8 I/O, batch 1); compare float, LiteRT and TFLM; SQNR per layer."""
    from tinyflow.model.pipeline import quantize_file

    if epochs is not None and not qat:
        raise click.UsageError("--epochs is the length of quantization-aware training: add --qat or drop it.")
    qat_epochs = (epochs or 3) if qat else 0
    with rendering(progress=qat):  # one Progress event per QAT epoch
        report = quantize_file(model, data, out, calibration=calibration, seed=seed, qat_epochs=qat_epochs)
    note(f"wrote {out}")
    from tinyflow.workflows.retrain import record_step  # what `tinyflow retrain` repeats

    record_step(model, out, "quantize", {"calibration": calibration, "seed": seed, "qat_epochs": qat_epochs})
    from tinyflow.monitor.reference import write_calibration_reference

    profile = write_calibration_reference(out, data, calibration, seed)
    note(f"wrote {profile} (the reference profile of tinyflow monitor)")
    if report_dir:
        from pathlib import Path

        from tinyflow.workflows.report_quantize import write_quantize_page

        page = {**report.to_dict(), "model": Path(model).name, "output": str(out)}
        note(f"report: {write_quantize_page(report_dir, page)}")
    emit(report, as_json)
