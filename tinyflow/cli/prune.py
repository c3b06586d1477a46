"""`tinyflow prune`: structured and/or unstructured pruning of a .keras model, with fine-tuning."""

from __future__ import annotations

import click

from tinyflow.cli._common import SEED, FiniteFloat, dataset_option, emit, output_option, rendering


@click.command("prune")
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@dataset_option("data", required=True, help="The dataset the model was trained on (same spec as train).")
@output_option(
    "out",
    type=click.Path(dir_okay=False),
    default="pruned.keras",
    show_default=True,
    help="Where to save the pruned model (.keras).",
)
@click.option(
    "--ratio",
    type=FiniteFloat(0, 1, max_open=True),
    default=0.0,
    show_default=True,
    help="Structured: fraction of Conv2D filters / Dense units removed (smallest L1 norm). Shrinks flash, RAM and latency.",
)
@click.option(
    "--sparsity",
    type=FiniteFloat(0, 1, max_open=True),
    default=0.0,
    show_default=True,
    help="Unstructured: fraction of weights set to zero. Saves nothing on an MCU unless weights are compressed.",
)
@click.option(
    "--epochs", type=click.IntRange(0, 1000), default=5, show_default=True, help="Fine-tuning epochs per method."
)
@click.option(
    "--seed", type=SEED, default=0, show_default=True, help="Same seed as training, so the test split matches."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def prune(model, data, out, ratio, sparsity, epochs, seed, as_json):
    """Prune MODEL (.keras) and report per-layer sparsity, parameters, int8 bytes and accuracy before/after."""
    from tinyflow.model.pipeline import prune_file

    with rendering():  # one Progress event per fine-tuning epoch
        report = prune_file(model, data, out, ratio=ratio, sparsity=sparsity, epochs=epochs, seed=seed)
    from tinyflow.workflows.retrain import record_step  # what `tinyflow retrain` repeats

    record_step(model, out, "prune", {"ratio": ratio, "sparsity": sparsity, "epochs": epochs})
    emit(report, as_json)
