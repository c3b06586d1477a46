"""`tinyflow export MODEL -o DIR`: the model as a TFLite Micro C array (.h/.cc)."""

from __future__ import annotations

import click

from tinyflow.cli._common import emit


@click.command("export")
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--out",
    "-o",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for <name>_model_data.h and <name>_model_data.cc (created if missing).",
)
@click.option(
    "--name", "-n", default=None, help="C name: g_<name>_model_data (default: the file name, made a valid identifier)."
)
@click.option(
    "--force", is_flag=True, help="Overwrite files of the same name that tinyflow did not write (or that were edited)."
)
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def export(model, out_dir, name, force, as_json):
    """Write MODEL as `alignas(16) const unsigned char g_<name>_model_data[]` plus its size."""
    from tinyflow.c_array import export_c_array

    emit(export_c_array(model, out_dir, name=name, force=force), as_json)
