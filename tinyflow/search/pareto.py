"""The Pareto front of a sweep: the non-dominated trials, as JSON (pareto.json) and an HTML page (pareto.html).

Pure math on plain numbers (`non_dominated`), then the files. The page follows the other reports
(workflows/report_html.py's base page, autoescaped; matplotlib's inline SVG, nothing loaded
from anywhere): a scatter of accuracy against each other objective, every trial in grey and the
front in blue, then the front as a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

PAGE = "pareto.html"
JSON = "pareto.json"
GREY, BLUE = "#b8b8b8", "#3b7dd8"
UNITS = {"accuracy": "", "latency": " (ms, estimate)", "instructions": "", "ram": " (B)", "flash": " (B)"}


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[str]) -> bool:
    """Whether `a` is at least as good as `b` in every objective and better in one."""
    better = False
    for x, y, d in zip(a, b, directions):
        if d == "maximize":
            x, y = -x, -y
        if x > y:
            return False
        better = better or x < y
    return better


def non_dominated(points: Sequence[Sequence[float]], directions: Sequence[str]) -> list[int]:
    """Indexes of the points no other point dominates (duplicates of a front point stay on it), in order."""
    return [
        i for i, p in enumerate(points) if not any(dominates(q, p, directions) for j, q in enumerate(points) if j != i)
    ]


def front(trials: list[dict], objectives: Sequence[str], directions: Sequence[str]) -> list[dict]:
    """The feasible trials (completed; fitting their board when `fit` is a constraint) on the front.

    Args:
        trials: {"number", "params", "metrics", "feasible"} per completed trial.
    """
    feasible = [t for t in trials if t.get("feasible", True)]
    points = [[t["metrics"][o] for o in objectives] for t in feasible]
    return [feasible[i] for i in non_dominated(points, directions)]


def front_document(config, trials: list[dict], summary: dict) -> dict:
    """What pareto.json holds: the objectives, the front, every completed trial and the sweep's counts."""
    objectives = list(config.metric_objectives)
    on_front = front(trials, objectives, config.directions)
    return {
        "objectives": [{"name": o, "direction": d} for o, d in zip(objectives, config.directions)],
        "constraints": [c for c in config.objectives if c not in objectives],
        "front": [_point(t) for t in on_front],
        "trials": [_point(t) | {"feasible": t.get("feasible", True)} for t in trials],
        **summary,
    }


def _point(t: dict) -> dict:
    point = {"number": t["number"], "params": t["params"], "metrics": t["metrics"]}
    return point | ({"model": t["model"]} if t.get("model") else {})


def write_front(directory: Path, document: dict) -> tuple[Path, Path]:
    """Write DIR/pareto.json and DIR/pareto.html atomically; returns both paths."""
    from tinyflow.outputs import atomic_write, make_dir, writing
    from tinyflow.report import to_json

    directory = make_dir(Path(directory))
    paths = (directory / JSON, directory / PAGE)
    with writing(paths[0]):
        atomic_write(paths[0], (to_json(document) + "\n").encode())
    with writing(paths[1]):
        atomic_write(paths[1], render_front(document).encode())
    return paths


TEMPLATES = {
    PAGE: """{% extends "base.html" %}
{% block meta %} &middot; dataset {{ r.dataset }}{% endblock %}
{% block body %}<h2>Summary</h2>
<table id="summary">{% for label, value in summary %}<tr><th>{{ label }}</th><td>{{ value }}</td></tr>{% endfor %}</table>
<h2>Trade-offs</h2>
{% for c in charts %}<div class="chart" id="chart-{{ c.key }}">{{ c.svg | safe }}</div>{% endfor %}
<h2>Pareto front</h2>
<table id="front"><tr><th>trial</th>{% for p in params %}<th>{{ p }}</th>{% endfor %}{% for o in objectives %}<th>{{ o }}</th>{% endfor %}</tr>
{% for row in rows %}<tr><td>{{ row.number }}</td>{% for v in row["values"] %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}</table>
{% endblock %}""",
}


def render_front(document: dict) -> str:
    """The HTML page of a sweep (document = pareto.json's content)."""
    from tinyflow.workflows.report_html import _page

    objectives = [o["name"] for o in document["objectives"]]
    params = sorted({k for t in document["front"] for k in t["params"]})
    rows = [
        {
            "number": t["number"],
            "values": [t["params"].get(p, "") for p in params] + [fmt_value(t["metrics"][o]) for o in objectives],
        }
        for t in document["front"]
    ]
    x_axis = "accuracy" if "accuracy" in objectives else objectives[0]
    charts = [
        {"key": o, "svg": scatter(document, o, x_axis, f"{x_axis} vs {o}")} for o in objectives if o != x_axis
    ] or [{"key": x_axis, "svg": scatter(document, x_axis, x_axis, x_axis)}]
    summary = [
        (
            "trials",
            f"{document.get('completed', 0)} completed, {document.get('failed', 0)} failed of {document.get('trials_planned', 0)}",
        ),
        ("on the front", str(len(document["front"]))),
        ("objectives", ", ".join(f"{o['name']} ({o['direction']})" for o in document["objectives"])),
        ("constraints", ", ".join(document.get("constraints") or []) or "none"),
        ("runs on", str(document.get("executor", ""))),
    ]
    report = {"model": "sweep", "dataset": document.get("dataset", ""), "target": document.get("target", "")}
    title = f"Sweep: Pareto front of {len(document['front'])} of {document.get('completed', 0)} trials"
    return _page(
        PAGE,
        report,
        templates=TEMPLATES,
        title=title,
        summary=summary,
        charts=charts,
        params=params,
        objectives=objectives,
        rows=rows,
    )


def scatter(document: dict, y: str, x: str, title: str) -> str:
    """Every trial in grey, the front in blue (x: `x`, y: `y`), as an inline SVG with an aria-label."""
    from tinyflow.workflows import charts

    fig, ax = charts._figure(6.5, 3.4)
    on_front = {t["number"] for t in document["front"]}
    rest = [t for t in document["trials"] if t["number"] not in on_front]
    ax.scatter([t["metrics"][x] for t in rest], [t["metrics"][y] for t in rest], color=GREY, label="trials")
    ax.scatter(
        [t["metrics"][x] for t in document["front"]],
        [t["metrics"][y] for t in document["front"]],
        color=BLUE,
        label="Pareto front",
    )
    ax.set_xlabel(charts._label(x + UNITS.get(x, ""), 60))
    ax.set_ylabel(charts._label(y + UNITS.get(y, ""), 60))
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return charts._svg(fig, title)


def fmt_value(value) -> str:
    """A metric for a table: 4 decimals below 10, thousands separators for bytes and counts."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.4f}" if abs(value) < 10 else f"{value:,.2f}"
    return f"{int(value):,}"
