"""`tinyflow retrain MODEL.keras --dataset NEW -o DIR`: fine-tune, shrink and gate a candidate model.

tinyflow --track sqlite:///mlruns.db retrain --run 3f2a9c -d labelled -o out   # from the deployed model's run
"""

from __future__ import annotations

import click

from tinyflow.cli._common import (
    SEED,
    TRACK_KEY,
    FiniteFloat,
    board_option,
    dataset_option,
    emit,
    note,
    output_option,
    rendering,
)


@click.command("retrain")
@click.argument("model", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--run", "run_ref", default=None, metavar="RUN",
              help="Instead of MODEL: the deployed model's run in the tracking store (--track / "
              "$TINYFLOW_TRACKING_URI): a run id (6+ characters) or models:/NAME/VERSION. Its model "
              "and companions are downloaded to OUT/deployed.")  # fmt: skip
@dataset_option(
    "new_data",
    required=True,
    help="Store of newly labelled samples (e.g. windows from classify --sample-below, labelled).",
)
@output_option(
    "out_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Folder for the union store, the candidate, its firmware and retrain.json/retrain.html.",
)
@click.option("--recipe", type=click.Path(exists=True, dir_okay=False), default=None,
              help="How MODEL was made (default MODEL.recipe.json; docs/operations.md).")  # fmt: skip
@click.option("--golden", default=None, help="Dataset whose test split is the golden set (default: the recipe's).")
@click.option("--target", "-t", default="sim://host", show_default=True, help="Simulated target the gates run on.")
@board_option(help="Board the candidate must fit and its firmware is generated for (default: the recipe's).")
@click.option("--runtime", type=click.Choice(["tflm", "aot"]), default=None,
              help="Runtime of the new firmware (default: the recipe's).")  # fmt: skip
@click.option("--max-drop", type=FiniteFloat(0, 1, max_open=True), default=0.01, show_default=True,
              help="Most golden-set accuracy the candidate may lose against the deployed model.")  # fmt: skip
@click.option("--latency-budget-ms", type=FiniteFloat(0, 1e6, min_open=True), default=None,
              help="Median latency limit on the target (default 1.5x the deployed model's there).")  # fmt: skip
@click.option("--seed", type=SEED, default=None, help="Seed (default: the recipe's).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def retrain(
    ctx, model, run_ref, new_data, out_dir, recipe, golden, target, board, runtime, max_drop, latency_budget_ms, seed,
    as_json,
):  # fmt: skip
    """Fine-tune MODEL (or --run RUN's, fetched from the tracking store) on its recipe's data plus
    NEW, prune and quantize it the same way, and gate the candidate (golden-set regression,
    agreement 1.0, latency, board fit). Accepted: writes the new firmware. Rejected: exits 1
    naming the failed gate. Both write a before/after report."""
    from tinyflow.errors import ModelError, UsageError
    from tinyflow.workflows.retrain import RetrainConfig
    from tinyflow.workflows.retrain import retrain as run

    if (model is None) == (run_ref is None):
        raise UsageError(
            "Give the deployed MODEL.keras or --run RUN, not both or neither", "See tinyflow retrain --help."
        )
    if run_ref is not None:
        from tinyflow.tracking.fetch import fetch_deployed

        model = str(fetch_deployed(ctx.find_root().meta.get(TRACK_KEY), run_ref, out_dir))
        # What a tracked retrain run records as its input: its parent is then the run of the
        # deployed model (lineage by SHA-256, tinyflow/tracking/record.py).
        ctx.params["model"] = model
    config = RetrainConfig(
        model, new_data, out_dir, recipe=recipe, golden=golden, target=target, board=board, runtime=runtime,
        max_drop=max_drop, latency_budget_ms=latency_budget_ms, seed=seed,
    )  # fmt: skip
    with rendering():
        report = run(config)
        if not report.rejected:  # the new model is watched against its own data, as quantize does
            from tinyflow.monitor.reference import write_calibration_reference

            recipe = report.recipe.get("quantize", {})
            union = report.datasets["union"]["path"]
            write_calibration_reference(report.candidate, union, int(recipe.get("calibration") or 200), report.seed)
    emit(report, as_json)
    note(f"report: {report.paths.get('html', '')}")
    if report.rejected:
        failed = next(g for g in report.gates if not g["passed"])
        names = " and ".join(report.rejected) + (" gates" if len(report.rejected) > 1 else " gate")
        raise ModelError(
            f"Candidate rejected by the {names}: {failed['detail']}",
            f"The deployed model stays; see {report.paths.get('html', out_dir)}.",
        )
