"""`tinyflow quantize`: full-integer int8 post-training quantization of a .keras model."""

from __future__ import annotations

import click

from tinyflow.cli._common import SEED, dataset_option, emit, note, output_option


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
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def quantize(model, data, out, calibration, seed, as_json):
    """Quantize MODEL to int8 (per-channel weights, int8 I/O, batch 1); compare float, LiteRT and TFLM; SQNR per layer."""
    from tinyflow.model.pipeline import quantize_file

    report = quantize_file(model, data, out, calibration=calibration, seed=seed)
    note(f"wrote {out}")
    emit(report, as_json)
