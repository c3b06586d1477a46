"""`tinyflow monitor --target URL --reference REF`: drift of what a device sees, against the
statistics profile saved with the model (docs/operations.md).

    tinyflow monitor -t /dev/ttyACM0 --reference kws.monitor.json               # live, every 5 s
    tinyflow monitor -t /dev/ttyACM0 --reference kws.monitor.json --once --reset # cron: exit 1 on alert
    tinyflow monitor -t ... --reference ... --prometheus-port 9108 --serve 8050   # gauges and a live page
"""

from __future__ import annotations

import click

from tinyflow.cli._common import (
    TRACK_KEY,
    FiniteFloat,
    board_option,
    count_option,
    emit,
    note,
    target_board,
    timeout_option,
)
from tinyflow.escaping import terminal_text
from tinyflow.report import to_json


@click.command("monitor")
@click.option(
    "--target", "-t", required=True, help="Board port or simulator URL (sim://host, /dev/ttyACM0, socket://...)."
)
@board_option()
@click.option(
    "--reference",
    "-r",
    required=True,
    type=click.Path(dir_okay=False),
    help="The model's statistics profile (<model>.monitor.json, written by tinyflow quantize).",
)
@click.option(
    "--model",
    "-m",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="The .tflite a sim:// target builds its firmware from (default: <model>.tflite next to REF).",
)
@click.option(
    "--interval", type=FiniteFloat(0.05, 86400), default=5.0, show_default=True, help="Seconds between readings."
)
@click.option("--once", is_flag=True, help="One reading, then exit 0 (ok or warn) or 1 (alert): for cron and CI.")
@click.option(
    "--windows",
    type=click.IntRange(1, 10**9),
    default=20,
    show_default=True,
    help="--once: inferences the reading must cover (waits for them, at most --wait seconds).",
)
@click.option(
    "--start", is_flag=True, help="Start classification on the device first (application mode, CLASSIFY_START)."
)
@click.option(
    "--reset", is_flag=True, help="--once: clear the device's statistics after reading (the next run sees new data)."
)
@click.option(
    "--wait",
    type=FiniteFloat(0.1, 86400),
    default=60.0,
    show_default=True,
    help="--once: longest wait in seconds for --windows inferences.",
)
@timeout_option()
@count_option(
    "polls",
    aliases=("--polls",),
    type=click.IntRange(0, 10**9),
    default=0,
    show_default=True,
    help="Readings before stopping (0: until Ctrl-C).",
)
@click.option(
    "--thresholds",
    default="",
    metavar="K=V,...",
    help="Override thresholds: psi_warn, psi_alert, ks_alert, confidence_drop, class_psi, saturation_rise, min_windows.",
)
@click.option(
    "--prometheus-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Export gauges at http://127.0.0.1:PORT/metrics (prometheus_client).",
)
@click.option(
    "--serve",
    "serve_port",
    type=click.IntRange(0, 65535),
    default=None,
    help="A live dashboard at http://127.0.0.1:PORT/ (drift per feature over time, confidence, class mix).",
)
@click.option("--json", "as_json", is_flag=True, help="JSON: one object per evaluation, drift scores included.")
@click.pass_context
def monitor(
    ctx,
    target,
    board,
    reference,
    model,
    interval,
    once,
    windows,
    start,
    reset,
    wait,
    timeout,
    polls,
    thresholds,
    prometheus_port,
    serve_port,
    as_json,
):
    """Compare what a device's model sees with REF: PSI and KS per feature, confidence, class mix, one verdict."""
    from tinyflow.errors import UsageError
    from tinyflow.monitor.drift import Thresholds
    from tinyflow.monitor.run import MonitorConfig, load_reference, run_monitor

    target, _ = target_board(target, board)
    limits = Thresholds.parse(thresholds)
    if once and windows < limits.min_windows:
        raise UsageError(f"--windows {windows} is below min_windows {limits.min_windows}", "Raise --windows.")
    config = MonitorConfig(
        target=target,
        reference=reference,
        model=model,
        interval=interval,
        once=once,
        windows=windows,
        start=start,
        reset=reset,
        wait=wait,
        timeout=timeout,
        polls=polls,
        thresholds=limits,
        prometheus_port=prometheus_port,
        serve_port=serve_port,
        track_uri=ctx.meta.get(TRACK_KEY),
    )
    ref = load_reference(reference)

    def show(point, urls=()):
        for url in urls:
            note(url)
        if as_json:
            click.echo(to_json({"step": point.step, **point.report.to_dict()}, indent=None))
        else:
            click.echo("\n".join(terminal_text(line) for line in str(point.report).split("\n")))

    try:
        result = run_monitor(config, ref, show, on_ready=note)
    except KeyboardInterrupt:
        return  # Ctrl-C is how a live monitor ends
    if once:
        if as_json:
            click.echo(to_json(result.to_dict()))
        else:
            emit(result, False)
        ctx.exit(1 if result.verdict == "alert" else 0)
