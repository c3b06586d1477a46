"""`tinyflow train`: train a zoo model on a dataset and save it as .keras."""

from __future__ import annotations

import click

from tinyflow.cli._common import SEED, FiniteFloat, dataset_option, emit, note, output_option, rendering, report_option

MODELS = ["mlp", "tiny_cnn", "ds_cnn", "mobilenet_v1", "resnet8", "autoencoder", "kws_cnn"]
FRONTENDS = ["micro_speech", "mfcc", "imu"]  # tinyflow.frontends.CONFIGS, without importing numpy


@click.command("train")
@dataset_option(
    "data",
    required=True,
    help="digits, sine, gestures, basic-motions, a .npz (x, y) / .csv (label, features) file, or a store folder.",
)
@click.option(
    "--model",
    "-m",
    "model_name",
    type=click.Choice(MODELS),
    default=None,
    help="Architecture from the zoo (docs/pipeline.md). Default tiny_cnn; with --frontend kws_cnn (audio) or mlp (imu).",
)
@click.option(
    "--frontend",
    type=click.Choice(FRONTENDS),
    default=None,
    help="Train on this front end's features of raw recordings (WAV audio, CSV IMU counts); the configuration "
    "is saved next to the model as <out>.frontend.json (docs/frontends.md).",
)
@output_option(
    "out",
    type=click.Path(dir_okay=False),
    default="model.keras",
    show_default=True,
    help="Where to save the trained model (.keras).",
)
@click.option(
    "--width",
    type=FiniteFloat(0, 16, min_open=True),
    default=1.0,
    show_default=True,
    help="Filters/units multiplier (1.0 = the reference architecture).",
)
@click.option(
    "--epochs",
    type=click.IntRange(1, 10_000),
    default=30,
    show_default=True,
    help="Most epochs (early stopping may stop sooner).",
)
@click.option(
    "--batch-size", type=click.IntRange(1, 65_536), default=32, show_default=True, help="Samples per gradient step."
)
@click.option(
    "--lr", type=FiniteFloat(0, 1, min_open=True), default=1e-3, show_default=True, help="Adam learning rate."
)
@click.option(
    "--patience",
    type=click.IntRange(1, 1000),
    default=5,
    show_default=True,
    help="Early stopping: epochs without a better validation loss.",
)
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seeds the split, the weights and the shuffling.")
@click.option(
    "--teacher",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Distill from this trained .keras classifier (same data and classes): soft targets plus labels "
    "(docs/optimization.md).",
)
@click.option(
    "--temperature",
    type=FiniteFloat(0, 100, min_open=True),
    default=4.0,
    show_default=True,
    help="With --teacher: softens both models' outputs; the soft loss is scaled by its square.",
)
@click.option(
    "--alpha",
    type=FiniteFloat(0, 1),
    default=0.5,
    show_default=True,
    help="With --teacher: weight of the hard-label loss (1 - alpha weighs the teacher's soft targets).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (progress stays on stderr).")
@report_option(
    "train.html", help="Also write DIR/train.html: learning curves (loss, accuracy), training vs validation, per epoch."
)
def train(
    data,
    model_name,
    frontend,
    out,
    width,
    epochs,
    batch_size,
    lr,
    patience,
    seed,
    teacher,
    temperature,
    alpha,
    as_json,
    report_dir,
):
    """Train a model from the zoo on a dataset (70/15/15 split, early stopping on validation loss)."""
    from tinyflow.model.pipeline import train_file

    with rendering():  # one Progress event per epoch
        report = train_file(
            data,
            model_name,
            out,
            width=width,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            patience=patience,
            seed=seed,
            frontend=frontend,
            teacher=teacher,
            temperature=temperature,
            alpha=alpha,
        )
    from tinyflow.workflows.retrain import record_training  # what `tinyflow retrain` repeats

    settings = {"model": model_name, "frontend": frontend, "width": width, "epochs": epochs, "batch_size": batch_size}
    record_training(out, data, {**settings, "lr": lr, "patience": patience, "seed": seed})
    if report_dir:
        from tinyflow.workflows.report_train import write_train_page

        note(f"report: {write_train_page(report_dir, report.to_dict())}")
    emit(report, as_json)
