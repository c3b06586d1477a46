"""`tinyflow deploy MODEL --format NAME -o DIR` and its alias `tinyflow export`: the model in one of
the registered output formats.

One implementation for both verbs (registry_command): `deploy` needs --format; `export` is the
same command with --format defaulting to c-array, as it always had. The options are built from the
registry (tinyflow.export.FORMATS): each option any format takes appears once, tagged with the
formats that take it; the chosen format refuses the others.
"""

from __future__ import annotations

import click

from tinyflow.cli._common import AliasedOption, emit, output_option
from tinyflow.export import DEFAULT_FORMAT, FORMATS, Option


def _default_text(value) -> str:
    return "yes" if value is True else str(value)


def _help(variants: list[tuple[Option, str]]) -> str:
    """The option's help: its text(s) and default(s), per format where formats disagree."""
    formats = [f for _, f in variants]
    texts = list(dict.fromkeys(o.help for o, _ in variants))
    help_ = f"[{', '.join(formats)}] {' / '.join(texts)}"
    defaults = {f: o.default for o, f in variants if o.default is not None and o.default is not False}
    if len(set(map(str, defaults.values()))) == 1 and len(defaults) == len(variants):
        help_ += f" (default: {_default_text(next(iter(defaults.values())))})"
    elif defaults:
        by_value: dict[str, list[str]] = {}
        for f, v in defaults.items():
            by_value.setdefault(_default_text(v), []).append(f)
        help_ += " (default: " + "; ".join(f"{v} for {', '.join(fs)}" for v, fs in by_value.items()) + ")"
    return help_


# Short forms that mean something else in the other verbs: `-n` is --count everywhere
# (cli/_common.py count_option), so --name's old `-n` still parses here but is not shown.
HIDDEN_SHORTS = {"-n"}


def _click_option(opt: Option, help_: str):
    names = [opt.flag, *([opt.short] if opt.short and opt.short not in HIDDEN_SHORTS else [])]
    old = {"cls": AliasedOption, "hidden_aliases": (opt.short,)} if opt.short in HIDDEN_SHORTS else {}
    if opt.type is bool:
        # default None: the option reaches the format only when given on the command line.
        if opt.default is False:
            return click.option(*names, opt.name, is_flag=True, default=None, help=help_, **old)
        return click.option(f"{opt.flag}/--no-{opt.flag[2:]}", *names[1:], opt.name, default=None, help=help_, **old)
    if opt.choices:
        kind = click.Choice(opt.choices)
    elif opt.type is int:
        kind = click.IntRange(opt.minimum, None)
    else:
        kind = click.STRING
    return click.option(*names, opt.name, type=kind, default=None, help=help_, **old)


def _format_options(command):
    """Add one click option per distinct option name of the registered formats."""
    seen: dict[str, list[tuple[Option, str]]] = {}
    for fmt in FORMATS.values():
        for opt in fmt.options:
            seen.setdefault(opt.name, []).append((opt, fmt.name))
    for variants in reversed(list(seen.values())):  # click lists options in decoration order, reversed
        first = variants[0][0]
        if len({o.choices for o, _ in variants}) > 1:  # one click type must accept every format's choices
            first = Option(
                first.name, first.help, first.type, tuple(dict.fromkeys(c for o, _ in variants for c in o.choices))
            )
        command = _click_option(first, _help(variants))(command)
    return command


_FORMAT_HELP = "Output format (below)."
# The formats and what each writes, after the options (\b: click keeps the lines as they are).
_EPILOG = "\b\nFormats:\n" + "\n".join(f"  {f.name:16} {f.description}" for f in FORMATS.values())


def registry_command(verb: str, default_format: str | None, doc: str) -> click.Command:
    """A click command writing MODEL in a registered format: the one body of `deploy` and `export`."""

    def run(model, fmt, out_dir, as_json, **options):
        from tinyflow.export import export_model

        emit(export_model(model, fmt, out_dir, **options), as_json)

    run.__doc__ = doc
    fmt_opt = (
        click.option("--format", "-f", "fmt", default=default_format, show_default=True, help=_FORMAT_HELP)
        if default_format
        else click.option("--format", "-f", "fmt", required=True, help=_FORMAT_HELP)
    )
    decorators = [
        click.command(verb, epilog=_EPILOG),
        click.argument("model", type=click.Path(exists=True, dir_okay=False)),
        fmt_opt,
        output_option(
            "out_dir",
            required=True,
            type=click.Path(file_okay=False),
            help="Output folder (created if missing; files tinyflow did not write are not overwritten).",
        ),
        _format_options,
        click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON."),
    ]
    for decorate in reversed(decorators):
        run = decorate(run)
    return run


export = registry_command(
    "export",
    DEFAULT_FORMAT,
    "Write MODEL in an output format: by default the C array `g_<name>_model_data[]` and its size. "
    "The same command as `tinyflow deploy`, with --format defaulting to c-array.",
)
