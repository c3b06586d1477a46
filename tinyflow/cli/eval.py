"""`tinyflow eval MODEL --target URL --dataset SPEC`: accuracy, agreement, latency and link health."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from tinyflow.cli._common import (
    DEFAULT_TARGET,
    SEED,
    FiniteFloat,
    board_option,
    count_option,
    dataset_option,
    emit,
    note,
    rendering,
    target_board,
    timeout_option,
)


@click.command("eval")
@click.argument("model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--target",
    "-t",
    default=DEFAULT_TARGET,
    show_default=True,
    help="sim://tflm, sim://host, sim://qemu-m4 (?board=ID), a device path or a pyserial URL.",
)
@board_option("Board id of a simulated target (the same as ?board=ID in --target); a device reports its own.")
@dataset_option(
    required=True,
    help="digits, sine, gestures, a .npz/.csv file, or random:N (seeded random inputs); an existing file "
    "or folder of that name is read instead of random:N.",
)
@click.option(
    "--split",
    type=click.Choice(["test", "val", "train", "all"]),
    help="Which part of the dataset: default the held-out test split of digits/sine/gestures "
    "(as train, prune and quantize split it with the same --seed), all samples of a file.",
)
@count_option("limit", aliases=("--limit",), type=click.IntRange(min=1), help="Evaluate only the first N samples.")
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
@timeout_option()
@click.option(
    "--min-accuracy",
    type=FiniteFloat(0, 1),
    help="Pass/fail threshold: lowest accepted accuracy (0-1). A failed threshold exits 1.",
)
@click.option(
    "--min-agreement",
    type=FiniteFloat(0, 1),
    help="Pass/fail threshold: lowest accepted share of outputs identical to the TFLM reference (0-1).",
)
@click.option(
    "--max-latency-ms",
    type=FiniteFloat(0, 1e9, min_open=True),
    help="Pass/fail threshold: highest accepted p99 latency per inference, in milliseconds.",
)
@click.option(
    "--frontend",
    type=click.Choice(["micro_speech", "mfcc", "imu"]),
    help="The model's feature front end when it has no <model>.frontend.json: the device computes "
    "the features from raw signals (WAV/CSV) and eval compares them with the host's.",
)
@click.option(
    "--class-names",
    metavar="A,B,...",
    help="The model's output classes in order (dataset labels are matched by name). Default: the names in "
    "the model's <model>.frontend.json, if any; names that differ from them are refused.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--no-progress", is_flag=True, help="Do not draw the progress bar on stderr.")
@click.pass_context
def eval_(
    ctx,
    model,
    target,
    board,
    dataset,
    split,
    limit,
    report_dir,
    resume,
    window,
    faults,
    baud,
    seed,
    timeout,
    min_accuracy,
    min_agreement,
    max_latency_ms,
    frontend,
    class_names,
    as_json,
    no_progress,
):
    """Evaluate MODEL on a target: stream a dataset, compare every output with the TFLM reference."""
    from tinyflow.errors import TinyflowError
    from tinyflow.workflows.config import EvalConfig
    from tinyflow.workflows.evaluate import evaluate

    target = _board_target(target, board)
    config = EvalConfig(
        model,
        dataset=dataset,
        target=target,
        split=split,
        limit=limit,
        window=window,
        report_dir=report_dir,
        resume=resume,
        faults=faults,
        baud=baud,
        seed=seed,
        timeout=timeout,
        frontend=frontend,
        class_names=tuple(n.strip() for n in class_names.split(",")) if class_names else (),
    )
    limits = {"min_accuracy": min_accuracy, "min_agreement": min_agreement, "max_latency_ms": max_latency_ms}
    try:
        with rendering(not no_progress):
            report = evaluate(config)
    except KeyboardInterrupt:
        click.echo(f"Error: interrupted. {resume_hint(ctx)}", err=True)
        ctx.exit(130)
    report.thresholds = {k: v for k, v in limits.items() if v is not None}
    if report.thresholds and report_dir is not None:
        report.write(report_dir)  # again, now with the verdict (evaluate wrote it without one)
    emit(report, as_json)
    if report_dir is not None and not as_json:
        note(f"wrote {report_dir / 'report.json'} and {report_dir / 'report.html'}")
    failed = report.failed_checks()
    if failed:
        raise TinyflowError(
            "Evaluation failed its thresholds: " + "; ".join(failed),
            "See the report for the numbers; improve the model or change the threshold.",
        )


def _board_target(target: str, board: str | None) -> str:
    """The target URL with --board merged in; a board for a real device is refused, not ignored."""
    from tinyflow.errors import UsageError

    if board and not target.startswith("sim://"):
        raise UsageError(
            f"--board applies to sim:// targets and {target} is a device, which reports its own board",
            "Remove --board.",
        )
    return target_board(target, board)[0]


def resume_hint(ctx: click.Context) -> str:
    """What to type to carry on: this very command with --resume, or how to make a run resumable."""
    params = ctx.params
    if params.get("report_dir") is None:
        return "Nothing was kept: give --report DIR to make a long evaluation resumable."
    return f"Resume with: {shlex.join(['tinyflow', *_rebuild(params), '--resume'])}"


def _rebuild(params: dict) -> list[str]:
    """The options that shape a run (what --resume must repeat), from the parsed values.

    Rebuilt rather than copied from sys.argv: under a notebook or a test runner argv is not ours,
    and the words come out quoted for the shell whatever the user typed."""
    argv = ["eval", str(params["model"]), "--target", params["target"], "--dataset", params["dataset"]]
    argv += ["--report", str(params["report_dir"])]
    for name in ("board", "split", "limit", "faults", "baud", "seed", "timeout", "window", "frontend", "class_names"):
        value = params.get(name)
        if value is not None:
            flag = {"faults": "--inject-faults", "limit": "--count"}.get(name, f"--{name.replace('_', '-')}")
            argv += [flag, str(value)]
    return argv
