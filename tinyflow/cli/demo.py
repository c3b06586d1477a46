"""`tinyflow demo`: the whole pipeline on digits, spoken keywords (kws) or IMU activities (har), artifacts in one folder."""

from __future__ import annotations

import click

from tinyflow.cli._common import DEFAULT_TARGET, SEED, emit, note, output_option, rendering, target_board


@click.command("demo")
@output_option(
    "out",
    type=click.Path(file_okay=False),
    default="tinyflow-demo",
    show_default=True,
    help="Folder for the models, the int8 .tflite, the C array and report.json.",
)
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seeds the split, the weights and the shuffling.")
@click.option("--board", "-b", default="nano33ble", show_default=True, help="Board whose flash/RAM budget is checked.")
@click.option(
    "--task",
    type=click.Choice(["digits", "kws", "har"]),
    default="digits",
    show_default=True,
    help="digits (8x8 images, tiny_cnn); kws (synthesized speech, held-out voices, through a front end); "
    "har (basic-motions smartwatch IMU through the imu front end). docs/pipeline.md.",
)
@click.option(
    "--frontend",
    type=click.Choice(["micro_speech", "mfcc", "imu"]),
    default=None,
    help="The task's front end: kws takes micro_speech (default) or mfcc, har takes imu.",
)
@click.option(
    "--epochs",
    type=click.IntRange(1, 1000),
    default=None,
    help="Training epochs (early stopping); default 40 (digits), 60 (kws), 30 (har).",
)
@click.option(
    "--target",
    "-t",
    default=DEFAULT_TARGET,
    show_default=True,
    help="Simulated board (or device) the int8 model is evaluated on, as in eval; sim://host runs the compiled "
    "firmware (it falls back to sim://tflm without a C compiler).",
)
@click.option("--json", "as_json", is_flag=True, help="Print report.json instead of the summary.")
def demo(out, seed, board, task, frontend, epochs, target, as_json):
    """data -> train -> 50% structured + 50% unstructured pruning -> int8 -> inspect -> C array -> eval on a simulated board."""
    from tinyflow.workflows.config import DemoConfig
    from tinyflow.workflows.demo import run_demo

    target, _ = target_board(target, board)  # a different ?board= in the URL is a usage error
    config = DemoConfig(out=out, seed=seed, board=board, epochs=epochs, target=target, task=task, frontend=frontend)
    with rendering():
        report = run_demo(config)
    emit(report, as_json)
    if not as_json:
        note(report_locations(report.artifacts))


def report_locations(artifacts: dict) -> str:
    """Where to look next: the demo's report.json and, when evaluation ran, its report.html."""
    text = f"report: {artifacts.get('report', '?')}"
    pages = [p for p in artifacts.get("eval_report") or [] if str(p).endswith(".html")]
    return text + (f"; open {pages[0]} in a browser" if pages else "")
