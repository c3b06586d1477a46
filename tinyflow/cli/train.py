"""`tinyflow train`: train a zoo model on a dataset and save it as .keras."""

from __future__ import annotations

import click

from tinyflow.cli._common import SEED, FiniteFloat, dataset_option, emit, output_option, rendering

MODELS = ["mlp", "tiny_cnn", "ds_cnn", "mobilenet_v1", "resnet8", "autoencoder"]


@click.command("train")
@dataset_option("data", required=True, help="digits, sine, gestures, or a .npz (x, y) / .csv (label, features) file.")
@click.option(
    "--model",
    "-m",
    "model_name",
    type=click.Choice(MODELS),
    default="tiny_cnn",
    show_default=True,
    help="Architecture from the zoo (docs/pipeline.md).",
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
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (progress stays on stderr).")
def train(data, model_name, out, width, epochs, batch_size, lr, patience, seed, as_json):
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
        )
    emit(report, as_json)
