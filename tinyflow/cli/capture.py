"""`tinyflow capture --target URL --label yes --count 20 --seconds 1 -o data/kws/`: record labelled
windows from a device's sensor into a dataset store (docs/data.md "Capture")."""

from __future__ import annotations

from pathlib import Path

import click

from tinyflow.cli._common import (
    SEED,
    FiniteFloat,
    board_option,
    emit,
    output_option,
    rendering,
    target_board,
    timeout_option,
)

MAX_RETRIES = 10
MAX_RETRIES_FAULTS = 60  # as eval's: injected faults garble many exchanges in a row


@click.command("capture")
@click.option(
    "--target",
    "-t",
    required=True,
    help="Board port or simulator URL: sim://host?sensor=FILE.wav, sim://qemu-m4?sensor=FILE.csv, /dev/ttyACM0...",
)
@board_option()
@click.option("--label", required=True, help="Label of every window recorded.")
@click.option(
    "--count", "-n", type=click.IntRange(1, 100_000), default=10, show_default=True, help="Windows to record."
)
@click.option(
    "--seconds",
    type=FiniteFloat(0.001, 3600),
    default=1.0,
    show_default=True,
    help="Length of each window (of the take with --continuous).",
)
@output_option("out", type=click.Path(path_type=Path), required=True, help="The store to add to (created if missing).")
@click.option(
    "--continuous",
    is_flag=True,
    help="Record one take of --seconds to a WAV/CSV file in -o instead; cut it with `tinyflow data segment`.",
)
@click.option("--rate", type=click.IntRange(0, 1_000_000), default=0, help="Sample rate to open the sensor at (Hz).")
@click.option("--channels", type=click.IntRange(0, 255), default=0, help="Channels to open the sensor with.")
@click.option(
    "--model",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="The model whose firmware the simulator runs (sim://host without one runs the fake model).",
)
@click.option(
    "--inject-faults",
    "faults",
    metavar="SPEC",
    help="Testing aid: corrupt the link, e.g. ber=1e-4,drop=1e-4,dup=1e-4,garbage=0.02.",
)
@click.option("--baud", type=click.IntRange(min=300), help="Testing aid: emulate this serial line rate (8N1).")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the fault injector.")
@timeout_option()
@click.option("--no-progress", is_flag=True, help="Do not draw the progress bar and level meter on stderr.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def capture(
    target, board, label, count, seconds, out, continuous, rate, channels, model, faults, baud, seed, timeout,
    no_progress, as_json,
):  # fmt: skip
    """Record labelled windows (or one --continuous take) from a device's sensor into a store."""
    from tinyflow.errors import UsageError

    if not label.strip():
        raise UsageError("--label is empty", "Give the class of what is recorded, e.g. --label yes.")
    target, board = target_board(target, board)
    with rendering(not no_progress):
        report = _capture(
            target, board, label, count, seconds, out, continuous, rate, channels, model, faults, baud, seed, timeout
        )
    emit(report, as_json)


def _capture(target, board, label, count, seconds, out, continuous, rate, channels, model, faults, baud, seed, timeout):
    """Open the device, stream its sensor, cut the frames into the store (or a take)."""
    from tinyflow import events
    from tinyflow.data.capture import record_take, record_windows
    from tinyflow.targets.client import DeviceClient
    from tinyflow.targets.faults import parse_faults, wrap_port
    from tinyflow.workflows.device import open_device
    from tinyflow.workflows.evaluate import open_detail

    spec = parse_faults(faults)  # a bad spec is refused before anything is built
    if faults and "seed=" not in faults:
        spec.seed = seed
    target = _fake_model_for(target, model)
    with events.stage("open", open_detail(target)):
        port = open_device(target, model=model, board=board, timeout=timeout)
    try:
        port = wrap_port(port, faults=spec, baud=baud)
        client = DeviceClient(port, timeout=timeout, max_retries=MAX_RETRIES_FAULTS if faults else MAX_RETRIES)
        info = client.handshake()
        blocks = client.capture(None, rate, channels)  # started: capture_info holds the rate
        opened = client.capture_info
        width = max(1, int(round(seconds * opened.rate_hz)))
        blocks = _first(blocks, width if continuous else width * count)
        common = dict(
            rate_hz=opened.rate_hz,
            channels=opened.channels,
            kind=opened.kind,
            device=info.board_id or "unknown",
            progress=lambda done, total, meter: events.emit(events.Progress("capture", done, total, meter)),
        )
        if continuous:
            report = record_take(blocks, out, label, seconds=seconds, **common)
        else:
            report = record_windows(
                blocks, out, label, count=count, seconds=seconds, ticks_per_second=info.ticks_per_second, **common
            )
        report.link = client.counters.to_dict()
        return report
    finally:
        port.close()


def _fake_model_for(target: str, model) -> str:
    """sim://host without a model runs the fake model (capture needs no model); others need one."""
    from urllib.parse import urlsplit

    from tinyflow.errors import UsageError
    from tinyflow.targets import parse_sim_url

    if model is not None or urlsplit(target).scheme != "sim":
        return target
    name, params = parse_sim_url(target)
    if name == "host":
        return target if "fake" in params else f"{target}{'&' if '?' in target else '?'}fake=1"
    if name.startswith("qemu"):
        raise UsageError(
            f"{target} runs a firmware built for a model, and none was given", "Pass --model MODEL.tflite."
        )
    return target


def _first(blocks, frames: int):
    """The blocks up to `frames` frames (the last one cut); closing it stops the capture."""
    have = 0
    try:
        for block in blocks:
            block.data = block.data[: frames - have]
            have += len(block.data)
            yield block
            if have >= frames:
                return
    finally:
        blocks.close()  # CAPTURE_STOP
