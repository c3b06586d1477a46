"""Experiment tracking with MLflow: each verb that makes or measures a model logs one run.

    from tinyflow.tracking import track
    run_id = track("sqlite:///mlruns.db", "quantize", {"model": "m.keras", "data": "digits", "out": "m.tflite"},
                   report.to_dict())

The CLI calls `track` from its one rendering point (tinyflow/cli/_common.py `emit`) when
`tinyflow --track [URI]` or $TINYFLOW_TRACKING_URI is given, after the verb has written its
outputs and printed its report. record.py turns options + report into a RunRecord (pure),
fits.py adds board-fit verdicts for an int8 model, store.py is the only module that imports
mlflow (lazily), history.py reads runs back for `tinyflow runs`. docs/tracking.md.
"""

from __future__ import annotations

from tinyflow.errors import TinyflowError
from tinyflow.tracking.record import RunRecord, build_record, tracked
from tinyflow.tracking.store import ENV, EXPERIMENT, INSTALL_HINT, KEPT, LOCAL_URI, guarded, log_record, open_client

__all__ = [
    "ENV",
    "EXPERIMENT",
    "INSTALL_HINT",
    "LOCAL_URI",
    "RunRecord",
    "build_record",
    "guarded",
    "open_client",
    "track",
    "tracked",
]


def track(uri: str, verb: str, params: dict, report: dict) -> str | None:
    """Log one run of `verb` (its click parameters and report dict) to the store at `uri`.

    Returns:
        The MLflow run id, or None when `verb` is not one that makes or measures a model.
    Raises:
        UsageError: mlflow is not installed. TinyflowError: the store refused or did not answer.
    """
    if not tracked(verb):
        return None
    record = build_record(verb, params, report)
    try:
        with guarded(uri, "open the tracking store"):
            client = open_client(uri)  # first: a missing mlflow or a dead server is said at once
        fit_tags = {}
        if record.register:
            from tinyflow.tracking.fits import board_fits

            fit_tags = board_fits(record.output_model)
        with guarded(uri, f"log the run of {verb}"):
            return log_record(client, record, fit_tags)
    except TinyflowError as exc:  # the verb succeeded: say that its outputs are there
        raise type(exc)(f"{exc.message}; the run was not logged", f"{KEPT} {exc.hint}") from None
