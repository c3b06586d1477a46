"""`tinyflow mlperf serve|run|dataset`: MLPerf Tiny on tinyflow's targets (docs/mlperf.md)."""

from __future__ import annotations

from pathlib import Path

import click

from tinyflow.cli._common import SEED, board_option, dataset_option, note, output_option, target_board

BENCHMARK_CHOICE = click.Choice(["kws01", "ic01", "vww01", "ad01"])
MODEL_ARG = click.argument("model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
BENCHMARK_OPT = click.option(
    "--benchmark", "benchmark_id", type=BENCHMARK_CHOICE, required=True, help="MLPerf Tiny benchmark id."
)
SERVE_POLL_SECONDS = 1.0


def _model_bytes(path: Path) -> bytes:
    from tinyflow.runtimes import model_data

    return model_data(path)


@click.group("mlperf")
def mlperf():
    """MLPerf Tiny: serve a simulated DUT to the official runner, or run its modes natively."""


@mlperf.command("serve")
@MODEL_ARG
@BENCHMARK_OPT
@click.option("--target", "-t", default="sim://host", show_default=True, help="sim://host or sim://qemu-m4[?board=ID].")
@board_option()
def serve(model, benchmark_id, target, board):
    """Serve MODEL as an EEMBC DUT on a pseudo-terminal until interrupted.

    The first line of output is the device path to give the runner.
    """
    import signal

    from tinyflow.errors import LinkError
    from tinyflow.mlperf.serve import serve_dut

    target, _ = target_board(target, board)
    dev = serve_dut(_model_bytes(model), benchmark_id, target)
    # A service manager or a script stops it with SIGTERM (background jobs of a script ignore
    # SIGINT): both end the same way, the simulated DUT closed, exit 0.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        click.echo(dev.path)
        note(f"Serving {benchmark_id} on {target} at {dev.path} (Ctrl-C to stop).")
        # Bounded waits: each returns within a second, so Ctrl-C and a dead DUT are both noticed.
        while dev.wait(SERVE_POLL_SECONDS) is None:
            pass
        raise LinkError(f"The simulated DUT on {target} stopped", "Run the command again to restart it.")
    except KeyboardInterrupt:
        pass
    finally:
        dev.close()


@mlperf.command("run")
@MODEL_ARG
@BENCHMARK_OPT
@click.option(
    "--target",
    "-t",
    default="sim://host",
    show_default=True,
    help="sim://host, sim://qemu-m4[?board=ID], sim://tflm (reference, accuracy only) or a serial device.",
)
@board_option()
@click.option(
    "--mode",
    type=click.Choice(["accuracy", "performance"]),
    default="accuracy",
    show_default=True,
    help="accuracy: Top-1 (AUC for AD) over the dataset; performance: median throughput.",
)
@dataset_option(
    "dataset",
    aliases=(),
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A runner dataset folder (y_labels.csv); default: one made and labelled by the reference kernels.",
)
@click.option(
    "--per-class",
    type=click.IntRange(1, 100),
    default=2,
    show_default=True,
    help="Inputs per class of the made dataset.",
)
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the made dataset.")
@click.option(
    "--results",
    "results_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the records as the runner's results.json.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the records (results.json shape) as JSON.")
def run(model, benchmark_id, target, board, mode, dataset, per_class, seed, results_file, as_json):
    """Run MODEL as an MLPerf Tiny benchmark: Top-1 and AUC, or the median throughput."""
    from tinyflow.escaping import terminal_text
    from tinyflow.mlperf import run_benchmark
    from tinyflow.outputs import atomic_write, check_file_target
    from tinyflow.report import to_json

    target, _ = target_board(target, board)
    if results_file is not None:
        check_file_target(results_file)  # a bad path fails now, not after the run

    report = run_benchmark(_model_bytes(model), benchmark_id, target, mode, dataset, per_class=per_class, seed=seed)
    text = to_json(report.to_json())
    if results_file is not None:
        atomic_write(results_file, text.encode())
        note(f"wrote {results_file}")
    if as_json:
        click.echo(text)
    else:
        click.echo(terminal_text(f"{report.benchmark} on {report.target} ({report.device}), {mode} mode"))
        for line in report.lines():
            click.echo(terminal_text(line))


@mlperf.command("dataset")
@MODEL_ARG
@BENCHMARK_OPT
@output_option(
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write (the runner's <datasets>/<benchmark> folder).",
)
@click.option(
    "--per-class", type=click.IntRange(1, 100), default=2, show_default=True, help="Inputs per class (AD: per label)."
)
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the inputs.")
def dataset(model, benchmark_id, out_dir, per_class, seed):
    """Write a runner dataset folder of seeded inputs labelled by the TFLM reference kernels."""
    from tinyflow.mlperf import benchmark
    from tinyflow.mlperf.dataset import make_dataset, write_dataset

    entries = make_dataset(_model_bytes(model), benchmark(benchmark_id), per_class=per_class, seed=seed)
    folder = write_dataset(out_dir, entries)
    click.echo(f"{len(entries)} files and y_labels.csv in {folder}")
