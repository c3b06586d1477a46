"""The `tinyflow` command: one error boundary over lazily loaded verbs (one module per verb)."""

from __future__ import annotations

import importlib
import os
import sys

import click

from tinyflow import __version__
from tinyflow.cli._common import QUIET_KEY
from tinyflow.cli.runs import track_option, with_bare_track
from tinyflow.errors import TinyflowError
from tinyflow.escaping import terminal_text

# verb -> (module under tinyflow.cli, attribute, one-line help). Modules load only when their
# verb runs, so `tinyflow --help` imports neither TensorFlow nor the heavy runtimes.
VERBS = {
    "train": ("train", "train", "Train a model from the zoo on a dataset."),
    "prune": ("prune", "prune", "Prune a Keras model (structured and/or unstructured)."),
    "quantize": ("quantize", "quantize", "Quantize a Keras model to a full-integer int8 .tflite."),
    "inspect": ("inspect", "inspect", "Ops, tensors, MACs, measured arena and board fit of a .tflite."),
    "export": ("export", "export", "Export a .tflite in an output format (--format; default a C array)."),
    "deploy": ("deploy", "deploy", "Package a model: Arduino library, CMake, ESP-IDF, Zephyr, C (--format)."),
    "compile": ("compile", "compile", "Compile an int8 .tflite to standalone C."),
    "boards": ("boards", "boards", "List and show supported boards."),
    "board": ("board", "board", "Serve this machine's board to others over RFC 2217 (board serve)."),
    "ci": ("ci", "ci", "Gate a project's CI on a model's budgets (ci init: workflow + pytest file)."),
    "eval": ("eval", "eval_", "Evaluate a model on a target (board or simulator)."),
    "profile": ("profile", "profile", "Per-op timing and memory of a model on a target."),
    "firmware": ("firmware", "firmware", "Generate, build, flash and size firmware projects."),
    "demo": ("demo", "demo", "Run the whole pipeline on a simulated board."),
    "cache": ("cache", "cache", "Show or clean the build cache (tinyflow cache info|clean)."),
    "data": ("data", "data", "Dataset stores: info, split, check, import, segment, synth-kws."),
    "capture": ("capture", "capture", "Record labelled windows from a device's sensor into a dataset store."),
    "mlperf": ("mlperf", "mlperf", "MLPerf Tiny: serve a DUT to the official runner, or run its modes."),
    "runs": ("runs", "runs", "Runs logged with --track (MLflow): list, compare side by side."),
    "classify": ("classify", "classify", "Live predictions from a device's sensor (application mode)."),
    "monitor": ("monitor", "monitor", "Watch a device's model for drift against its reference profile."),
    "sweep": ("sweep", "sweep", "Search architecture and compression for accuracy x latency x memory (Optuna on Ray)."),
    "retrain": ("retrain", "retrain", "Fine-tune a deployed model on new labelled data; gate it; new firmware."),
}


# Messages quote model text and device replies; past this many characters they are cut (the hint,
# rendered separately, is kept).
MESSAGE_LIMIT = 1000
# Read by tinyflow/model/noise.py (TensorFlow's own lines are silenced unless it is set); the
# name is repeated there because cli/ does not import model/ to parse options.
VERBOSE_ENV = "TINYFLOW_VERBOSE"


def error_line(exc: TinyflowError) -> str:
    """The error as one line of text: message and hint with control characters escaped.

    Messages quote untrusted text (custom-op codes, tensor names, device ERROR replies); a newline
    in it would split the `Error:` line and could forge output that looks like tinyflow's own.
    """
    message = terminal_text(exc.message, MESSAGE_LIMIT)
    return f"{message}. {terminal_text(exc.hint, MESSAGE_LIMIT)}".strip() if exc.hint else f"{message}."


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return list(VERBS)

    def get_command(self, ctx, name):
        if name not in VERBS:
            return None
        module, attr, _ = VERBS[name]
        return getattr(importlib.import_module(f"tinyflow.cli.{module}"), attr)

    def parse_args(self, ctx, args):
        return super().parse_args(ctx, with_bare_track(args, VERBS))  # `tinyflow --track VERB`

    def format_commands(self, ctx, formatter):
        rows = [(name, help_) for name, (_, _, help_) in VERBS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except TinyflowError as exc:
            click.echo(f"Error: {error_line(exc)}", err=True)
            ctx.exit(exc.exit_code)
        except OSError as exc:
            # A safety net: library code turns the OS errors it expects into TinyflowErrors.
            where = f"{terminal_text(str(exc.filename), MESSAGE_LIMIT)}: " if getattr(exc, "filename", None) else ""
            click.echo(
                f"Error: {where}{terminal_text(str(exc.strerror or exc), MESSAGE_LIMIT)}. Check the path, its "
                "permissions and the free space, then run again.",
                err=True,
            )
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("Error: interrupted. Partial results were kept where the command supports --resume.", err=True)
            ctx.exit(130)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tinyflow")
@click.option(
    "--quiet", "-q", is_flag=True, help="No progress bars or stage lines on stderr (errors and warnings stay)."
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Show TensorFlow's own log lines (absl, oneDNN, converter), hidden by default.",
)
@track_option
@click.pass_context
def cli(ctx, quiet, verbose):
    """tinyflow: train, prune, quantize, compile, flash and evaluate tiny neural networks."""
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose contradict each other: give one of them.")
    ctx.meta[QUIET_KEY] = quiet
    if verbose:
        # An environment variable, not a setting: model/ reads it, and so do worker processes.
        os.environ[VERBOSE_ENV] = "1"


def main(argv=None):
    return cli.main(args=argv, prog_name="tinyflow")


if __name__ == "__main__":
    sys.exit(main())
