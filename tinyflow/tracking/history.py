"""`tinyflow runs list|compare`: what the tracking store holds, as tables (tinyflow.report).

report = list_runs(client, limit=20)     # one row per run, newest first
report = compare_runs(client, ["3f2a...", "9c1b..."])   # one column per run
print(report); report.to_dict()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from tinyflow.errors import UsageError
from tinyflow.report import fmt_bytes, table
from tinyflow.tracking.store import EXPERIMENT

# The columns of `runs list`: the headline metrics every verb logs under the same names.
LIST_METRICS = ("float_accuracy", "int8_accuracy", "int8_drop", "agreement", "arena", "ram", "flash", "latency_ms")
MAX_RUNS = 1000


@dataclass
class RunSummary:
    """One run as `runs` shows it."""

    run_id: str
    verb: str
    name: str
    status: str
    started: str
    parent: str
    dataset_version: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class RunsReport:
    """Runs of the store: `list` prints one row per run, `compare` one column per run."""

    runs: list[RunSummary]
    side_by_side: bool = False

    def to_dict(self) -> dict:
        return {"experiment": EXPERIMENT, "runs": [r.to_dict() for r in self.runs]}

    def __str__(self) -> str:
        if not self.runs:
            return f"No runs in experiment {EXPERIMENT!r}: run a verb with `tinyflow --track ...`."
        return self._compare() if self.side_by_side else self._list()

    def _list(self) -> str:
        shown = [m for m in LIST_METRICS if any(m in r.metrics for r in self.runs)]
        headers = ["run", "verb", "name", "started", "parent", *shown]
        rows = [
            [r.run_id[:12], r.verb, r.name, r.started, r.parent[:12] or "-", *(r.metrics.get(m) for m in shown)]
            for r in self.runs
        ]
        return table(headers, rows, title=f"{len(self.runs)} run(s) in experiment {EXPERIMENT!r}")

    def _compare(self) -> str:
        head = [("verb", "verb"), ("name", "name"), ("started", "started"), ("parent", "parent")]
        rows = [[label, *((getattr(r, attr) or "-")[:40] for r in self.runs)] for label, attr in head]
        rows.append(["dataset", *(r.dataset_version[:16] or "-" for r in self.runs)])
        for kind, key in (("param", "params"), ("metric", "metrics")):
            # the report's every number (dotted names) stays in --json: the table keeps to the headlines
            names = sorted({k for r in self.runs for k in getattr(r, key) if "." not in k}, key=_headline_first)
            for k in names:
                rows.append([f"{kind} {k}", *(_show(k, getattr(r, key).get(k)) for r in self.runs)])
        return table(["", *(r.run_id[:12] for r in self.runs)], rows)


def list_runs(client, limit: int = 50) -> RunsReport:
    """The newest `limit` runs of the tinyflow experiment."""
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        return RunsReport([])
    found = client.search_runs(
        [experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=min(limit, MAX_RUNS)
    )
    return RunsReport([_summary(r) for r in found])


def compare_runs(client, run_ids: list[str]) -> RunsReport:
    """The runs `run_ids` (full ids or unique prefixes of at least 6 characters), side by side."""
    experiment = client.get_experiment_by_name(EXPERIMENT)
    known = client.search_runs([experiment.experiment_id], max_results=MAX_RUNS) if experiment else []
    chosen = []
    for wanted in run_ids:
        matches = [r for r in known if r.info.run_id.startswith(wanted)] if len(wanted) >= 6 else []
        if len(matches) != 1:
            why = "no run" if not matches else f"{len(matches)} runs"
            raise UsageError(
                f"Run {wanted!r} matches {why} in experiment {EXPERIMENT!r}",
                "Give run ids (or prefixes of 6+ characters) from `tinyflow runs list`.",
            )
        chosen.append(_summary(matches[0]))
    return RunsReport(chosen, side_by_side=True)


def _summary(run) -> RunSummary:
    tags = run.data.tags
    started = datetime.fromtimestamp(run.info.start_time / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return RunSummary(
        run_id=run.info.run_id,
        verb=tags.get("tinyflow.verb", "?"),
        name=run.info.run_name or "",
        status=run.info.status,
        started=started,
        parent=tags.get("tinyflow.parent_run", ""),
        dataset_version=tags.get("tinyflow.dataset_version", ""),
        params=dict(run.data.params),
        # MLflow stores every metric as a float: byte counts come back as 1936.0, shown as 1,936
        metrics={k: int(v) if float(v).is_integer() else v for k, v in run.data.metrics.items()},
    )


def _headline_first(name: str) -> tuple[int, str]:
    return (0 if name in LIST_METRICS else 1, name)


def _show(name: str, value):
    if value is None:
        return "-"
    if name in ("arena", "ram", "flash", "model_bytes"):
        return fmt_bytes(int(value))
    return value
