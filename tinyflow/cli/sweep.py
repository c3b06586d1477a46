"""`tinyflow sweep CONFIG.toml -o OUT`: a multi-objective search of architecture and compression on Ray."""

from __future__ import annotations

import click

from tinyflow.cli._common import TRACK_KEY, emit, note, output_option, rendering


@click.command("sweep")
@click.argument("config", type=click.Path(exists=True, dir_okay=False))
@output_option(
    "out",
    type=click.Path(file_okay=False),
    required=True,
    help="Folder of the sweep: the study (resumable), each trial's model, pareto.json and pareto.html.",
)
@click.option(
    "--ray-address",
    default=None,
    metavar="HOST:PORT",
    help="Run the trials on this existing Ray cluster (default: start a local Ray).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 1024),
    default=None,
    help="CPUs of the local Ray, i.e. trials at once (default: every CPU).",
)
@click.option("--serial", is_flag=True, help="Run the trials one by one in this process, without Ray.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def sweep(config, out, ray_address, workers, serial, as_json):
    """Search CONFIG.toml's space (NSGA-II), trials on Ray; rerun with the same OUT to resume an interrupted sweep."""
    from tinyflow.search import load_config
    from tinyflow.search import sweep as run_sweep

    if serial and ray_address:
        raise click.UsageError("--serial and --ray-address contradict each other: give one of them.")
    parsed = load_config(config)
    tracking = click.get_current_context().meta.get(TRACK_KEY)  # `tinyflow --track`: every trial is a run
    with rendering():
        report = run_sweep(parsed, out, ray_address=ray_address, workers=workers, serial=serial, tracking_uri=tracking)
    note(f"front: {report.files[-1]}" if report.files else "no front written")
    emit(report, as_json)
