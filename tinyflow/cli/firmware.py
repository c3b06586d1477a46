"""`tinyflow firmware generate|build|flash|size`: PlatformIO projects for real boards (generate is the
`platformio` format of tinyflow.export)."""

from __future__ import annotations

import click

from tinyflow.cli._common import emit


@click.group("firmware")
def firmware():
    """Generate, build, flash and size PlatformIO firmware projects."""


@firmware.command("generate")
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option("--board", "-b", required=True, help="Board id (tinyflow boards list).")
@click.option(
    "--runtime",
    "-r",
    type=click.Choice(["tflm", "aot"]),
    default="tflm",
    show_default=True,
    help="tflm: TFLite Micro library + generated op resolver; aot: compiled C, no library.",
)
@click.option(
    "--output",
    "-o",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Project folder (new, empty, or generated before: edited files are kept).",
)
@click.option("--name", default=None, help="Model name reported by the firmware (default: the file name).")
@click.option(
    "--protocol",
    type=click.Choice(["native", "eembc"]),
    default="native",
    show_default=True,
    help="native: tinyflow frames (tinyflow eval/profile); eembc: the MLPerf Tiny DUT text protocol.",
)
@click.option(
    "--benchmark",
    type=click.Choice(["kws01", "ic01", "vww01", "ad01"]),
    default=None,
    help="With --protocol eembc: the MLPerf Tiny benchmark (model string, I/O conventions; docs/mlperf.md).",
)
@click.option(
    "--arena-bytes",
    type=click.IntRange(1, None),
    default=None,
    help="tflm: use this arena instead of measuring it on the host (the margin is still added).",
)
@click.option(
    "--mode",
    type=click.Choice(["link", "app"]),
    default="link",
    show_default=True,
    help="link: the firmware waits for the host (eval, profile, classify); app: it also classifies its sensor "
    "from boot and calls tinyflow_on_prediction() in src/on_prediction.c (yours: never regenerated).",
)
@click.option(
    "--max-ram",
    type=click.IntRange(1, None),
    default=None,
    metavar="BYTES",
    help="aot: activation arena budget, met by running the early layers patch by patch (docs/compiled-runtime.md).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def generate(model, board, runtime, out_dir, name, protocol, benchmark, arena_bytes, mode, max_ram, as_json):
    """Write a PlatformIO project that runs MODEL on a board; refuses models that do not fit."""
    from tinyflow.export import get_format

    options = {"board": board, "runtime": runtime, "name": name, "protocol": protocol, "arena_bytes": arena_bytes}
    options["mode"], options["max_ram"] = mode, max_ram
    if benchmark is not None:
        options["benchmark"] = benchmark
    emit(get_format("platformio").write(model, out_dir, **options), as_json)


@firmware.command("build")
@click.argument("project", type=click.Path(exists=True, file_okay=False), default=".")
@click.option("--env", "-e", default=None, help="PlatformIO env (default: the board's).")
@click.option("--json", "as_json", is_flag=True, help="Print the size report as JSON.")
def build(project, env, as_json):
    """Build PROJECT with PlatformIO and check its size against the board."""
    from tinyflow.build.platformio import build_project

    report = build_project(project, env)
    emit(report, as_json)
    report.raise_if_not_fit()


@firmware.command("size")
@click.argument("project", type=click.Path(exists=True, file_okay=False), default=".")
@click.option("--env", "-e", default=None, help="PlatformIO env (default: the board's).")
@click.option("--json", "as_json", is_flag=True, help="Print the size report as JSON.")
def size(project, env, as_json):
    """Flash and RAM of PROJECT's build, checked against the board."""
    from tinyflow.build.platformio import size_project

    report = size_project(project, env)
    emit(report, as_json)
    report.raise_if_not_fit()


@firmware.command("flash")
@click.argument("project", type=click.Path(exists=True, file_okay=False), default=".")
@click.option("--port", "-p", default=None, help="Serial port (default: found by the board's USB id).")
@click.option("--env", "-e", default=None, help="PlatformIO env (default: the board's).")
def flash(project, port, env):
    """Build and upload PROJECT to the board."""
    from tinyflow.build.platformio import flash_project

    used = flash_project(project, port=port, env=env)
    click.echo(f"flashed {project} through {used}; evaluate with: tinyflow eval MODEL --target {used}")
