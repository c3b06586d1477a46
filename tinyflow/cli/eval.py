"""`tinyflow eval MODEL --target URL --dataset SPEC`: accuracy, agreement, latency and link health."""

from __future__ import annotations

from pathlib import Path

import click

from tinyflow.cli._common import SEED, FiniteFloat, emit


@click.command("eval")
@click.argument("model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--target",
    "-t",
    default="sim://tflm",
    show_default=True,
    help="sim://tflm, sim://host, sim://qemu-m4 (?board=ID), a device path or a pyserial URL.",
)
@click.option(
    "--dataset",
    "-d",
    required=True,
    help="digits, sine, gestures, a .npz/.csv file, or random:N (seeded random inputs).",
)
@click.option(
    "--split",
    type=click.Choice(["test", "val", "train", "all"]),
    help="Which part of the dataset: default the held-out test split of digits/sine/gestures "
    "(as train, prune and quantize split it with the same --seed), all samples of a file.",
)
@click.option("--limit", type=click.IntRange(min=1), help="Evaluate only the first N samples.")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write report.json, report.html and the resume journal to this directory.",
)
@click.option("--resume", is_flag=True, help="Continue the interrupted run whose journal is in --report DIR.")
@click.option(
    "--window",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Requests kept in flight so transfer and inference overlap.",
)
@click.option(
    "--inject-faults",
    "faults",
    metavar="SPEC",
    help="Testing aid: corrupt the link, e.g. ber=1e-4,drop=1e-4,reset_every=500.",
)
@click.option("--baud", type=click.IntRange(min=300), help="Testing aid: emulate this serial line rate (8N1).")
@click.option(
    "--seed", type=SEED, default=0, show_default=True, help="Seed of random:N, generated datasets and faults."
)
@click.option(
    "--timeout",
    type=FiniteFloat(0.1, 3600),
    default=5.0,
    show_default=True,
    help="Seconds for a complete reply frame before the request is retried.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--no-progress", is_flag=True, help="Do not draw the progress bar on stderr.")
def eval_(
    model, target, dataset, split, limit, report_dir, resume, window, faults, baud, seed, timeout, as_json, no_progress
):
    """Evaluate MODEL on a target: stream a dataset, compare every output with the TFLM reference."""
    from tinyflow.workflows.evaluate import evaluate

    report = evaluate(
        model,
        target,
        dataset,
        limit=limit,
        window=window,
        report_dir=report_dir,
        resume=resume,
        faults=faults,
        baud=baud,
        seed=seed,
        progress=not no_progress,
        timeout=timeout,
        split=split,
    )
    emit(report, as_json)
    if report_dir is not None and not as_json:
        click.echo(f"wrote {report_dir / 'report.json'} and {report_dir / 'report.html'}", err=True)
