"""`tinyflow data info|split|check|import|segment|synth-kws`: the dataset store (docs/data.md)."""

from __future__ import annotations

from pathlib import Path

import click

from tinyflow.cli._common import SEED, FiniteFloat, emit, output_option

STORE = click.Path(file_okay=False, path_type=Path)


@click.group("data")
def data():
    """Dataset stores: inspect, split, check, import, segment and synthesize data."""


@data.command("info")
@click.argument("dataset")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of generated datasets and their split.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def info(dataset, seed, as_json):
    """Samples per class and split of DATASET (a store folder, a built-in name or a file); a store's version."""
    from tinyflow.data.info import describe

    emit(describe(dataset, seed), as_json)


@data.command("split")
@click.argument("store", type=STORE)
@click.option("--val", type=FiniteFloat(0, 0.9), default=0.15, show_default=True, help="Fraction for validation.")
@click.option("--test", type=FiniteFloat(0, 0.9), default=0.15, show_default=True, help="Fraction for test.")
def split_(store, val, test):
    """Reassign every sample's split by its stable hash (by group when it has one) with new fractions."""
    from tinyflow.data.store import open_store

    with open_store(store) as opened:
        counts = opened.reassign_splits(val, test)
    click.echo(f"{store}: " + ", ".join(f"{s} {n}" for s, n in counts.items()) + f"; version {opened.version[:16]}")


@data.command("check")
@click.argument("store", type=STORE)
@click.option("--strict", is_flag=True, help="Fail on warnings too (imbalance, silence, near duplicates...).")
@click.option(
    "--near", type=FiniteFloat(0.5, 1.0), default=0.98, show_default=True, help="Similarity of near duplicates."
)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def check(store, strict, near, as_json):
    """Class balance, bias, clipping, silence, NaN, sample rates, duplicates and leakage across splits."""
    from tinyflow.data.checks import check_store
    from tinyflow.errors import DataError

    report = check_store(store, near=near)
    emit(report, as_json)
    failing = report.findings if strict else report.errors
    if failing:
        what = "problem(s)" if strict else "error(s)"
        raise DataError(f"{store} has {len(failing)} {what}, first: {failing[0].message}", "Fix them and check again.")


@data.command("import")
@click.argument("sources", nargs=-1, required=True, type=click.Path(file_okay=False, exists=True, path_type=Path))
@output_option("out", type=STORE, required=True, help="The store to add to (created if missing).")
@click.option("--sensor", default="imu", show_default=True, help="Sensor of CSV files (WAV files are audio).")
@click.option("--rate", type=FiniteFloat(0, 1e7), default=0.0, help="Sample rate of CSV files in Hz (0: unknown).")
@click.option("--device", default="", help="Device the recordings come from.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def import_(sources, out, sensor, rate, device, as_json):
    """Add folders of WAV/CSV recordings (SRC/LABEL/FILE; SRC/test/LABEL/FILE fixes the split) to a store."""
    from tinyflow.data.importer import import_folders

    emit(import_folders(list(sources), out, sensor=sensor, rate=rate, device=device), as_json)


@data.command("segment")
@click.argument("take", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@output_option("out", type=STORE, required=True, help="The store to add the windows to.")
@click.option("--label", required=True, help="Label of every window.")
@click.option("--seconds", type=FiniteFloat(0.01, 60), default=1.0, show_default=True, help="Window length.")
@click.option("--overlap", type=FiniteFloat(0, 0.95), default=0.5, show_default=True, help="CSV windows' overlap.")
@click.option(
    "--threshold-db", type=FiniteFloat(-120, 0), default=-35.0, show_default=True, help="WAV: dBFS of speech."
)
@click.option("--rate", type=FiniteFloat(0, 1e7), default=0.0, help="Sample rate of a CSV take in Hz.")
@click.option("--sensor", default="imu", show_default=True, help="Sensor of a CSV take.")
@click.option("--device", default="", help="Device the take comes from.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def segment(take, out, label, seconds, overlap, threshold_db, rate, sensor, device, as_json):
    """Cut a long take into samples: by energy for WAV audio, fixed overlapping windows for CSV."""
    from tinyflow.data.segment import segment_take

    report = segment_take(
        take,
        out,
        label,
        seconds=seconds,
        overlap=overlap,
        threshold_db=threshold_db,
        sensor=sensor,
        rate=rate,
        device=device,
    )
    emit(report, as_json)


@data.command("synth-kws")
@click.option("--words", required=True, help="Comma-separated keywords, e.g. yes,no,up,down.")
@output_option("out", type=STORE, required=True, help="The store to write.")
@click.option(
    "--voices", type=click.IntRange(min=3), default=24, show_default=True, help="Voices (accent+variant), 3 to 84."
)
@click.option("--repeats", type=click.IntRange(1, 1000), default=2, show_default=True, help="Samples per word+voice.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of voices, speeds, noise and levels.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def synth_kws(words, out, voices, repeats, seed, as_json):
    """Synthesize spoken keywords offline (espeak-ng + sox), test voices kept apart from train ones."""
    from tinyflow.data.synth import synth_kws as synthesize

    emit(synthesize(words.split(","), out, voices=voices, repeats=repeats, seed=seed), as_json)
