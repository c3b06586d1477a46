"""The HTML report of `tinyflow train --report DIR`: learning curves, train vs validation, per epoch.

Pure: `render_train(report_dict) -> str` from TrainReport.to_dict(); `write_train_page` writes it.
Same engine and conventions as the eval, profile and inspect pages (report_html.py: one jinja2 base
page, autoescaped; charts.py: matplotlib inline SVG with an aria-label, nothing loaded from anywhere).
"""

from __future__ import annotations

import math
from pathlib import Path

from tinyflow.workflows import charts
from tinyflow.workflows.report_html import _label, _page

PAGE = "train.html"
MAX_ROWS = 100  # epochs listed in the table; longer runs list every k-th epoch (the curves show all)
ORANGE = "#e67e22"

TEMPLATES = {
    PAGE: """{% extends "base.html" %}
{% block meta %} &middot; dataset {{ r.dataset }}{% endblock %}
{% block body %}<h2>Summary</h2>
<table id="summary">{% for label, value in summary %}<tr><th>{{ label }}</th><td>{{ value }}</td></tr>{% endfor %}</table>
<h2>Learning curves</h2>
<p class="meta">{{ basis }}</p>
{% for c in curves %}<div class="curve" id="curve-{{ c.key }}">{{ c.svg | safe }}</div>{% endfor %}
<h2>Per epoch</h2>{% if thinned %}<p class="meta">{{ thinned }}</p>{% endif %}
<table id="epochs"><tr><th>epoch</th>{% for h in columns %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in rows %}<tr{% if row.best %} id="best-epoch"{% endif %}><td>{% if row.best %}<b>{{ row.epoch }} (best)</b>{% else %}{{ row.epoch }}{% endif %}</td>
{% for v in row["values"] %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}</table>
{% endblock %}""",
}


def render_train(report: dict) -> str:
    """The page for one training run (report = TrainReport.to_dict())."""
    history = report.get("history") or {}
    best = report.get("best_epoch") or None
    names = metric_names(history)
    curves = [
        {"key": name, "svg": learning_curve(*_series(history, name), best, f"{_label(name)} per epoch")}
        for name in names
    ]
    columns, rows = epoch_rows(history, names, best)
    val = "val_loss" in history
    splits = "the training split and the validation split" if val else "the training split (no validation split)"
    total = _epochs(history)
    context = {
        "title": f"Training of {report.get('model', '?')} on {report.get('dataset', '?')}",
        "summary": train_summary(report),
        "curves": curves,
        "basis": f"Per epoch, on {splits}; the best epoch (lowest {'validation' if val else 'training'} loss) "
        "is the one whose weights were kept.",
        "columns": columns,
        "rows": rows,
        "thinned": ""
        if len(rows) >= total
        else f"One epoch in {math.ceil(total / MAX_ROWS)} of {total:,}, with the best and the last.",
    }
    return _page(PAGE, report, templates=TEMPLATES, **context)


def write_train_page(directory, report: dict) -> Path:
    """Render `report` (TrainReport.to_dict()) into DIR/train.html, atomically; returns the path."""
    from tinyflow.outputs import atomic_write, make_dir, writing

    path = make_dir(Path(directory)) / PAGE
    with writing(path):
        atomic_write(path, render_train(report).encode())
    return path


def metric_names(history: dict) -> list[str]:
    """The quantities with a curve: `loss` first, then each metric Keras logged (not the learning rate)."""
    names = [k for k in history if not k.startswith("val_") and k != "learning_rate"]
    names += [k[4:] for k in history if k.startswith("val_") and k[4:] not in names]  # validation-only
    return sorted(names, key=lambda k: (k != "loss", names.index(k)))


def _series(history: dict, name: str) -> tuple[dict[str, list[float]], str]:
    """({split: values}, axis label); accuracy in percent, as the table and the terminal show it."""
    scale, ylabel = (100.0, "accuracy (%)") if name == "accuracy" else (1.0, _label(name).lower())
    series = {"training": history.get(name), "validation": history.get(f"val_{name}")}
    return {split: [scale * v for v in values] for split, values in series.items() if values}, ylabel


def _epochs(history: dict) -> int:
    return max((len(v) for v in history.values()), default=0)


def epoch_rows(history: dict, names: list[str], best: int | None) -> tuple[list[str], list[dict]]:
    """Table columns (`training loss`, `validation loss`, ...) and one row per listed epoch."""
    keys = [(split, key) for name in names for split, key in (("training", name), ("validation", f"val_{name}"))]
    keys = [(split, key) for split, key in keys if key in history]
    columns = [f"{split} {_label(key.removeprefix('val_')).lower()}" for split, key in keys]
    total = _epochs(history)
    step = max(1, math.ceil(total / MAX_ROWS))
    shown = sorted({*range(1, total + 1, step), total, *([best] if best and best <= total else [])})
    rows = []
    for epoch in shown:
        values = [_fmt(key, history[key][epoch - 1] if epoch <= len(history[key]) else None) for _, key in keys]
        rows.append({"epoch": epoch, "best": epoch == best, "values": values})
    return columns, rows


def train_summary(r: dict) -> list[tuple[str, str]]:
    """(label, value) rows: what ran, the best epoch, the kept model's metrics and on which split."""
    on = r.get("metrics_on") or "validation"
    rows = [
        ("Dataset", str(r.get("dataset", "?"))),
        ("Epochs run", f"{r.get('epochs_run', 0):,} (early stopping watches the {on} loss)"),
        ("Best epoch (weights kept)", str(r.get("best_epoch") or "n/a")),
    ]
    rows += [(f"{on.capitalize()} {_label(k).lower()}", _fmt(k, v)) for k, v in (r.get("metrics") or {}).items()]
    rows.append(("Training time", f"{r.get('seconds') or 0:,.1f} s"))
    if r.get("path"):
        rows.append(("Saved to", str(r["path"])))
    return rows


def _fmt(key: str, v) -> str:
    if v is None or not math.isfinite(v):
        return "n/a"
    return f"{100 * v:.2f}%" if key.removeprefix("val_") == "accuracy" else f"{v:.4g}"


def learning_curve(series: dict[str, list[float]], ylabel: str, best: int | None, title: str) -> str:
    """One line per split (training, validation) over epochs 1..n, the best epoch as a dashed line."""
    from matplotlib.ticker import MaxNLocator

    fig, ax = charts._figure(7.0, 2.6)
    for (split, values), color in zip(series.items(), (charts.BLUE, ORANGE)):
        # a diverged run logs nan or inf: a gap in the line, not an axis scaled to infinity
        ys = [v if v is not None and math.isfinite(v) else math.nan for v in values]
        marker = "o" if len(ys) <= 40 else None
        ax.plot(range(1, len(ys) + 1), ys, color=color, marker=marker, markersize=3, label=split)
    if best:
        ax.axvline(best, color="#7f8c8d", linestyle="--", linewidth=1, label=f"best epoch ({best})")
    ax.set_xlabel("epoch")
    ax.set_ylabel(charts._label(ylabel, 40))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return charts._svg(fig, title)
