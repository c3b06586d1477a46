"""`tinyflow compile MODEL -o DIR`: an int8 .tflite as standalone C (the compiled runtime)."""

from __future__ import annotations

import click

from tinyflow.cli._common import emit


class CompileReport:
    """What `tinyflow compile` wrote and the memory it plans."""

    def __init__(self, written, memory):
        self.written, self.memory = written, memory

    def to_dict(self) -> dict:
        return {"files": [str(p) for p in self.written], "memory": self.memory.to_dict()}

    def __str__(self) -> str:
        head = f"wrote {self.written[0]} (+{len(self.written) - 1} kernel and header files)"
        return head + "\n" + str(self.memory)


@click.command("compile")
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--out",
    "-o",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for <name>.c, kernels/ and include/ (new, empty, or written by tinyflow compile before).",
)
@click.option("--force", is_flag=True, help="Write into a folder with files tinyflow did not write, overwriting them.")
@click.option("--name", "-n", default=None, help="Model name (C file name and info string); default: the file name.")
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
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def compile_(model, out_dir, name, force, tflm_arena, reference, as_json):
    """Compile MODEL to C99: weights in flash, one planned activation buffer, one function per model."""
    from pathlib import Path

    from tinyflow.compile import compile_model
    from tinyflow.compile.bundle import write_bundle
    from tinyflow.compile.report import memory_report
    from tinyflow.runtimes.tflm import measure_arena
    from tinyflow.tflite import read_model_file

    data = read_model_file(model)
    name = name or Path(model).stem
    compiled = compile_model(data, name=name, reference=reference)
    written = write_bundle(compiled, out_dir, force=force)
    arena = measure_arena(data).arena_bytes if tflm_arena else None
    emit(CompileReport(written, memory_report(compiled, name=name, tflm_arena_bytes=arena)), as_json)


compile = compile_  # the VERBS table names the attribute "compile"
