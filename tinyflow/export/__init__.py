"""Output formats: one registry of what a model can be written as.

    from tinyflow.export import FORMATS, export_model
    export_model("kws.tflite", "c-array", "out/")                    # CArrayFiles
    export_model("kws.tflite", "c", "out/", board="nano33ble")       # CompileReport
    export_model("kws.tflite", "platformio", "fw/", board="nano33ble", runtime="aot")
    export_model("kws.tflite", "cmake", "kws/", name="kws", runtime="aot")  # PackageReport (docs/deploy.md)

Each format is one module with a writer `(model, out_dir, **options) -> report` (a report prints
as a table and has to_dict() for --json) and one line in FORMATS: its name, a one-line
description, the options it takes and where its writer is. Adding a format is that module and
that line: `tinyflow deploy --format` (and its alias `tinyflow export`) builds its options from
this table; the package formats (cmake, arduino-library, esp-idf, zephyr) share
tinyflow.export.package; and the verbs
`tinyflow compile` and `tinyflow firmware generate` call the same writers. Writers are imported
when used, so listing the formats loads nothing heavy.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, replace

from tinyflow.errors import UsageError


@dataclass(frozen=True)
class Option:
    """One option of a format: a keyword of its writer, `--name-with-dashes` on the command line."""

    name: str
    help: str
    type: type = str  # str, int or bool (a bool is a --x/--no-x switch)
    choices: tuple[str, ...] = ()
    required: bool = False
    minimum: int | None = None  # int options: the smallest accepted value
    default: object = None  # the writer's default, for help texts (bool: False is a plain flag)
    short: str = ""  # a one-letter alias on the command line ("-n")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class ExportFormat:
    """One output format: its name, what it writes, its options and its writer ("module:function")."""

    name: str
    description: str
    options: tuple[Option, ...]
    writer: str

    def option(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)

    def write(self, model, out_dir: str | os.PathLike, **options):
        """Check `options` against the table, then run the writer.

        Raises:
            UsageError: an option this format does not take, a required one missing, a bad choice.
        """
        options = {k: v for k, v in options.items() if v is not None}  # None: the writer's default
        for key, value in options.items():
            opt = self.option(key)
            if opt is None:
                takes = ", ".join(o.flag for o in self.options) or "no options"
                raise UsageError(f"Format {self.name} does not take {key.replace('_', '-')!r}", f"It takes: {takes}.")
            if opt.choices and value not in opt.choices:
                raise UsageError(
                    f"{opt.flag} {value!r} is not one of {self.name}'s choices",
                    f"Use one of: {', '.join(opt.choices)}.",
                )
            if opt.minimum is not None and value < opt.minimum:
                raise UsageError(f"{opt.flag} is {value}; it must be at least {opt.minimum}", "Give a larger value.")
        missing = [o.flag for o in self.options if o.required and options.get(o.name) is None]
        if missing:
            raise UsageError(f"Format {self.name} needs {', '.join(missing)}", f"Add {missing[0]} to the command.")
        module, function = self.writer.split(":")
        return getattr(importlib.import_module(module), function)(model, out_dir, **options)


NAME = Option(
    "name", "Model name: C symbols, file names and the name the firmware reports (default: the file name).", short="-n"
)
FORCE = Option(
    "force", "Overwrite files of the same name that tinyflow did not write (or that were edited).", bool, default=False
)
BOARD = Option(
    "board", "Board id (tinyflow boards list): c: picks its core's kernel variants; platformio: required.", short="-b"
)

# The package formats' runtime (PlatformIO projects default to tflm, where the pinned library is known).
RUNTIME = Option(
    "runtime",
    "aot: the compiled C, its functions named <name>_model_* (several models per program); "
    "tflm: the C array + TFLM glue, linked with the TFLM library.",
    choices=("aot", "tflm"),
    default="aot",
)
SHARED_ARENA = Option(
    "shared_arena",
    "aot: use the application's activation arena of this C name (TINYFLOW_DEFINE_ARENA) instead of "
    "the model's own, for models that run one at a time.",
)
MAX_RAM = Option(
    "max_ram",
    "aot: an activation arena budget in bytes, met by running the early layers patch by patch "
    "(docs/compiled-runtime.md).",
    int,
    minimum=1,
)
PACKAGE_OPTIONS = (NAME, RUNTIME, FORCE, SHARED_ARENA, MAX_RAM)


def _package(name: str, description: str, module: str) -> ExportFormat:
    return ExportFormat(name, description, PACKAGE_OPTIONS, f"tinyflow.export.{module}:write_{module}")


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat(
            "c-array",
            "The .tflite as a TFLite Micro C array: <name>_model_data.h and .cc.",
            (NAME, FORCE),
            "tinyflow.export.c_array:export_c_array",
        ),
        ExportFormat(
            "c",
            "Compiled C (no interpreter): <name>.c, its kernels and headers, and the memory it plans.",
            (
                NAME,
                FORCE,
                BOARD,
                Option(
                    "reference",
                    "Whose FULLY_CONNECTED arithmetic to follow (docs/compiled-runtime.md).",
                    choices=("wheel", "release"),
                    default="wheel",
                ),
                Option("tflm_arena", "Measure TFLM's arena for the same model, to compare.", bool, default=True),
                Option(
                    "namespace",
                    "Name the model's functions <name>_model_* (several models per program) "
                    "instead of tinyflow_model_*.",
                    bool,
                    default=False,
                ),
                Option(
                    "max_ram",
                    "An activation arena budget in bytes: run the early layers patch by patch (band by band) "
                    "with the fewest extra instructions that meets it (docs/compiled-runtime.md).",
                    int,
                    minimum=1,
                ),
            ),
            "tinyflow.export.compiled_c:write_compiled_c",
        ),
        ExportFormat(
            "platformio",
            "A PlatformIO firmware project for a board (TFLM or compiled runtime, native + eembc protocols).",
            (
                replace(BOARD, required=True),
                Option(
                    "runtime",
                    "tflm: TFLite Micro library + generated op resolver; aot: compiled C, no library.",
                    choices=("tflm", "aot"),
                    default="tflm",
                ),
                NAME,
                Option(
                    "protocol",
                    "native: tinyflow frames (eval/profile); eembc: the MLPerf Tiny DUT text protocol.",
                    choices=("native", "eembc"),
                    default="native",
                ),
                Option(
                    "benchmark",
                    "eembc: the MLPerf Tiny benchmark whose model string and I/O conventions to follow.",
                    choices=("kws01", "ic01", "vww01", "ad01"),
                ),
                Option(
                    "arena_bytes", "tflm: this arena instead of measuring it (the margin is added).", int, minimum=1
                ),
                MAX_RAM,
                Option(
                    "mode",
                    "link: the firmware waits for the host; app: it classifies its sensor from boot and calls "
                    "tinyflow_on_prediction() in src/on_prediction.c (yours, never regenerated; needs a front end).",
                    choices=("link", "app"),
                    default="link",
                ),
            ),
            "tinyflow.export.platformio:write_platformio",
        ),
        _package("cmake", "A CMake package: add_subdirectory or find_package, target tinyflow::<name>.", "cmake"),
        _package(
            "arduino-library",
            "An Arduino library .zip: library.properties, src/ and an example sketch.",
            "arduino_library",
        ),
        _package("esp-idf", "An ESP-IDF component (idf_component_register, idf_component.yml).", "esp_idf"),
        _package("zephyr", "A Zephyr module: zephyr/module.yml, CMakeLists.txt and Kconfig.", "zephyr"),
    )
}
DEFAULT_FORMAT = "c-array"


def get_format(name: str) -> ExportFormat:
    """The registered format called `name`.

    Raises:
        UsageError: no such format (the message lists the registered ones).
    """
    fmt = FORMATS.get(name)
    if fmt is None:
        raise UsageError(f"Unknown export format {name!r}", f"Use one of: {', '.join(FORMATS)}.")
    return fmt


def export_model(model, format: str, out_dir: str | os.PathLike, **options):
    """Write `model` (a .tflite path or bytes) as `format` into `out_dir`; returns the format's report."""
    return get_format(format).write(model, out_dir, **options)


__all__ = ["DEFAULT_FORMAT", "FORMATS", "ExportFormat", "Option", "export_model", "get_format"]
