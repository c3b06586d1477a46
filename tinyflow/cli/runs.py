"""`tinyflow runs list|compare`, and the group's `--track [URI]` option that makes verbs log runs.

    tinyflow --track train -d digits -o m.keras        # a bare --track: ./mlruns.db (SQLite)
    tinyflow --track http://127.0.0.1:5000 quantize m.keras -d digits -o m.tflite
    tinyflow runs list
    tinyflow runs compare 3f2a9c 9c1b07

Verbs know nothing of tracking: `emit` (cli/_common.py), where every verb hands over its report,
calls `record_run`, which logs the verb's parameters and report through tinyflow.tracking.
"""

from __future__ import annotations

import os

import click

from tinyflow.cli._common import TRACK_KEY, count_option, emit, note

# Repeated from tinyflow/tracking/store.py (ENV, LOCAL_URI) so that `tinyflow --help` loads no
# tracking code; a test checks the two agree.
TRACK_ENV = "TINYFLOW_TRACKING_URI"
LOCAL_URI = "sqlite:///mlruns.db"


def _remember(ctx, param, value):
    ctx.meta[TRACK_KEY] = value or None
    return value


track_option = click.option(
    "--track",
    is_flag=False,
    flag_value=LOCAL_URI,
    default=None,
    envvar=TRACK_ENV,
    metavar="[URI]",
    expose_value=False,
    callback=_remember,
    help=f"Log each run to MLflow at URI (http://..., sqlite:///...; ${TRACK_ENV}); bare: {LOCAL_URI} here.",
)


def with_bare_track(args: list[str], verbs) -> list[str]:
    """The group's arguments with a bare `--track` given its default URI.

    click would take the word after an option with an optional value as its value: in
    `tinyflow --track train ...` that word is the verb. Only the group's own options are looked at
    (up to the verb); `--track=URI` and `--track URI` pass unchanged.
    """
    out = list(args)
    i = 0
    while i < len(out):
        word = out[i]
        if word == "--track":
            following = out[i + 1] if i + 1 < len(out) else None
            if following is None or following in verbs or following.startswith("-"):
                out[i] = f"--track={LOCAL_URI}"
            else:
                i += 1  # skip the URI
        elif not word.startswith("-"):
            break  # the verb: what follows is its own
        i += 1
    return out


def record_run(ctx: click.Context, report) -> None:
    """Log the verb's run when `--track` is on (called by emit, after the report was printed)."""
    uri = ctx.meta.get(TRACK_KEY)
    if not uri:
        return
    from tinyflow.tracking import track, tracked

    words, node = [], ctx
    while node.parent is not None:  # `firmware generate`: every name below the `tinyflow` group
        words.insert(0, node.info_name)
        node = node.parent
    verb = " ".join(words)
    if not tracked(verb):
        return
    params = {k: os.fspath(v) if isinstance(v, os.PathLike) else v for k, v in ctx.params.items()}
    run_id = track(uri, verb, params, report.to_dict())
    note(f"tracked: run {run_id} in {uri}")


def _store(ctx: click.Context) -> str:
    return ctx.meta.get(TRACK_KEY) or LOCAL_URI  # --track, $TINYFLOW_TRACKING_URI, or the local store


@click.group("runs")
def runs():
    """Runs logged with `tinyflow --track`, read from the tracking store (same URI rules)."""


@runs.command("list")
@count_option(
    "limit",
    aliases=("--limit",),
    type=click.IntRange(1, 1000),
    default=50,
    show_default=True,
    help="Newest runs shown.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@click.pass_context
def list_(ctx, limit, as_json):
    """One line per run, newest first: verb, model, parent run and the headline metrics."""
    from tinyflow.tracking import guarded, open_client
    from tinyflow.tracking.history import list_runs

    uri = _store(ctx)
    with guarded(uri, "list runs"):
        report = list_runs(open_client(uri, must_exist=True), limit)
    emit(report, as_json)


@runs.command("compare")
@click.argument("run_ids", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@click.pass_context
def compare(ctx, run_ids, as_json):
    """RUN_IDS side by side (ids or prefixes of 6+ characters): parameters and headline metrics."""
    from tinyflow.tracking import guarded, open_client
    from tinyflow.tracking.history import compare_runs

    uri = _store(ctx)
    with guarded(uri, "read runs"):
        report = compare_runs(open_client(uri, must_exist=True), list(run_ids))
    emit(report, as_json)
