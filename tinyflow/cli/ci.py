"""`tinyflow ci init`: a CI workflow and a budget test file for the user's own project."""

from __future__ import annotations

from pathlib import Path

import click

from tinyflow.cli._common import FiniteFloat, dataset_option, output_option


@click.group("ci")
def ci():
    """Gate a project's CI on a model's budgets (docs/ci.md)."""


@ci.command("init")
@click.option("--model", "-m", required=True, help="The .tflite, as a path relative to the project folder.")
@click.option("--board", "-b", required=True, help="Board id (tinyflow boards list): its RAM and flash are the limits.")
@click.option("--target", "-t", default="sim://host", show_default=True, help="Where the tests run eval.")
@output_option(
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The project folder to write into.",
)
@dataset_option(aliases=(), default="random:20", show_default=True, help="Inputs of the agreement test.")
@click.option("--accuracy-dataset", help="A labelled dataset: adds an accuracy gate (with --min-accuracy).")
@click.option("--min-accuracy", type=FiniteFloat(0, 1), help="Lowest accepted accuracy (0-1).")
@click.option("--max-latency-ms", type=FiniteFloat(0, 1e9, min_open=True), help="Highest estimated latency.")
@click.option("--force", is_flag=True, help="Overwrite files tinyflow did not write or that were edited.")
def init(model, board, target, out_dir, dataset, accuracy_dataset, min_accuracy, max_latency_ms, force):
    """Write tests/test_model_budgets.py, .github/workflows/tinyflow.yml and .gitlab-ci.tinyflow.yml."""
    from tinyflow.outputs import write_outputs
    from tinyflow.testing.ci_project import CiSettings, ci_files

    if (accuracy_dataset is None) != (min_accuracy is None):
        raise click.UsageError("--accuracy-dataset and --min-accuracy go together: give both or neither.")
    settings = CiSettings(
        model=model,
        board=board,
        target=target,
        dataset=dataset,
        accuracy_dataset=accuracy_dataset,
        min_accuracy=min_accuracy,
        max_latency_ms=max_latency_ms,
    )
    files = ci_files(settings)
    paths = write_outputs({rel: text.encode() for rel, text in files.items()}, out_dir, force=force, exclusive=False)
    for path in paths:
        click.echo(f"wrote {click.format_filename(path)}")
    click.echo("Run the gates: python -m pytest tests/test_model_budgets.py")
