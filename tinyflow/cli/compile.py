"""`tinyflow compile MODEL -o DIR`: an int8 .tflite as standalone C (the compiled runtime), the
`c` format of tinyflow.export (`tinyflow export --format c` writes the same)."""

from __future__ import annotations

import click

from tinyflow.cli._common import AliasedOption, emit, output_option


@click.command("compile")
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@output_option(
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for <name>.c, kernels/ and include/ (new, empty, or written by tinyflow compile before).",
)
@click.option("--force", is_flag=True, help="Write into a folder with files tinyflow did not write, overwriting them.")
@click.option(
    "--name",
    "name",
    cls=AliasedOption,
    hidden_aliases=("-n",),  # -n is --count in every verb (cli/_common.py count_option)
    default=None,
    help="Model name (C file name and info string); default: the file name.",
)
@click.option(
    "--board",
    "-b",
    default=None,
    help="Board id whose core picks the kernel variants (Cortex-M4 DSP on nano33ble); default: portable C.",
)
@click.option(
    "--tflm-arena/--no-tflm-arena",
    default=True,
    show_default=True,
    help="Measure TFLM's arena for the same model to compare (cached subprocess probes).",
)
@click.option(
    "--reference",
    type=click.Choice(["wheel", "release"]),
    default="wheel",
    show_default=True,
    help="Whose FULLY_CONNECTED arithmetic to follow: the tflite_micro wheel tinyflow checks against, "
    "or released TFLM (bit-exact with TFLM firmware; docs/compiled-runtime.md).",
)
@click.option(
    "--max-ram",
    type=click.IntRange(min=1),
    default=None,
    metavar="BYTES",
    help="Activation arena budget: run the early layers patch by patch (band by band) with the fewest "
    "extra instructions that meets it; fails saying the smallest reachable arena otherwise.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def compile_(model, out_dir, name, board, force, tflm_arena, reference, max_ram, as_json):
    """Compile MODEL to C99: weights in flash, one planned activation buffer, one function per model."""
    from tinyflow.export import get_format

    options = {
        "name": name,
        "board": board,
        "force": force,
        "tflm_arena": tflm_arena,
        "reference": reference,
        "max_ram": max_ram,
    }
    emit(get_format("c").write(model, out_dir, **options), as_json)


compile = compile_  # the VERBS table names the attribute "compile"
