"""The HTML report of `tinyflow quantize --report DIR`: float vs int8 metrics and the per-layer SQNR.

Pure: `render_quantize(report_dict) -> str` from QuantizeReport.to_dict() (plus `model` and
`output`, the CLI's file names); `write_quantize_page` writes it. Same engine and conventions as
the other pages (report_html.py, charts.py). The SQNR is what model/quantize.py measured: each
int8 op output against the same op of the float model, both in the host LiteRT interpreter.
"""

from __future__ import annotations

import math
from pathlib import Path

from tinyflow.workflows import charts
from tinyflow.workflows.report_html import MAX_BARS, _label, _page

PAGE = "quantize.html"
RED = "#c0392b"
TENSOR_CHARS = 60  # converter tensor names join every fused op's name; the full name is the cell's tooltip
RUNTIMES = (("float_metrics", "float (Keras)"), ("litert_metrics", "int8 (LiteRT)"), ("tflm_metrics", "int8 (TFLM)"))

TEMPLATES = {
    PAGE: """{% extends "base.html" %}
{% block meta %}{% if r.output %} &middot; int8 model {{ r.output }}{% endif %}{% endblock %}
{% block body %}<h2>Summary</h2>
<table id="summary">{% for label, value in summary %}<tr><th>{{ label }}</th><td>{{ value }}</td></tr>{% endfor %}</table>
<h2>Float vs int8 on the test split</h2>
<table id="metrics"><tr><th>metric</th>{% for _, name in runtimes %}<th>{{ name }}</th>{% endfor %}</tr>
{% for m in metrics %}<tr><th>{{ m.label }}</th>{% for v in m["values"] %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}</table>
{% if metric_svg %}<div id="metric-chart">{{ metric_svg | safe }}</div>{% endif %}
<h2>Quantization error per layer</h2>
<p class="meta">{{ basis }}</p>
{% if sqnr_svg %}<div id="sqnr-chart">{{ sqnr_svg | safe }}</div>
<table id="layers"><tr><th>#</th><th>op</th><th>SQNR (dB)</th><th>drop (dB)</th><th>tensor</th></tr>
{% for e in layers %}<tr{% if e.worst %} id="worst-layer"{% endif %}><td>{{ e.index }}</td><th>{{ e.op }}</th>
<td>{{ "%.1f" % e.sqnr_db }}</td><td>{% if e.worst %}<b>{{ "%.1f" % e.drop_db }} (worst)</b>{% else %}{{ "%.1f" % e.drop_db }}{% endif %}</td>
<td title="{{ e.tensor }}">{{ e.tensor | truncate(TENSOR_CHARS, True) }}</td></tr>{% endfor %}</table>{% endif %}
{% endblock %}""",
}


def render_quantize(report: dict) -> str:
    """The page for one quantization (report = QuantizeReport.to_dict(), with `model` and `output`)."""
    layers = report.get("layers") or []
    worst = report.get("worst_layer") or {}
    rows = [{**e, "worst": e.get("index") == worst.get("index")} for e in layers]
    context = {
        "title": f"Quantization of {report.get('model', '?')} to int8",
        "summary": quantize_summary(report),
        "runtimes": RUNTIMES,
        "metrics": metric_rows(report),
        "metric_svg": metric_chart(report),
        "basis": _basis(report, bool(layers)),
        "sqnr_svg": sqnr_chart(layers, worst.get("index")) if layers else "",
        "layers": rows,
        "TENSOR_CHARS": TENSOR_CHARS,
    }
    return _page(PAGE, {"model": "?", **report}, templates=TEMPLATES, **context)


def write_quantize_page(directory, report: dict) -> Path:
    """Render `report` into DIR/quantize.html, atomically; returns the path."""
    from tinyflow.outputs import atomic_write, make_dir, writing

    path = make_dir(Path(directory)) / PAGE
    with writing(path):
        atomic_write(path, render_quantize(report).encode())
    return path


def _basis(r: dict, has_layers: bool) -> str:
    if not has_layers:
        return (
            "No per-layer figures: the float and int8 graphs do not have the same ops in the same order "
            "(after dropping QUANTIZE/DEQUANTIZE), so their outputs cannot be paired."
        )
    n = r.get("layer_samples")
    on = f"on {n:,} test sample{'s' if n != 1 else ''}" if n else "on test samples"
    return (
        f"SQNR = 10 log10(sum of float^2 / sum of (float - dequantized int8)^2) of each op's output, "
        f"the int8 model against the float model, both run in the host LiteRT interpreter {on}. "
        "It is cumulative (everything up to that op); the drop is what the op itself loses against its "
        "worst input. Higher SQNR is better; the worst layer has the largest drop."
    )


def quantize_summary(r: dict) -> list[tuple[str, str]]:
    """(label, value) rows: sizes, the test split, how close LiteRT's int8 kernels came to TFLM's, worst layer."""
    fb, qb = r.get("float_bytes") or 0, r.get("int8_bytes") or 0
    ratio = f" ({qb / fb:.2f}x)" if fb else ""
    rows = [
        ("Model size", f"float {fb:,} B -> int8 {qb:,} B{ratio}"),
        ("Test samples", f"{r.get('samples', 0):,}"),
        (
            "int8 LiteRT vs TFLM",
            f"{100 * (r.get('litert_tflm_identical') or 0):.1f}% of outputs identical, at most "
            f"{r.get('litert_tflm_max_steps', 0)} int8 steps apart (TFLM is the reference)",
        ),
    ]
    worst = r.get("worst_layer")
    if worst:
        rows.append(
            (
                "Worst layer",
                f"#{worst['index']} {worst['op']}: loses {worst['drop_db']:.1f} dB (SQNR {worst['sqnr_db']:.1f} dB)",
            )
        )
    return rows


def metric_rows(r: dict) -> list[dict]:
    """One row per metric (accuracy, or mse and mae): its value under float Keras, LiteRT and TFLM."""
    names = list(r.get("float_metrics") or {})
    return [{"label": _label(k), "values": [_fmt(k, (r.get(key) or {}).get(k)) for key, _ in RUNTIMES]} for k in names]


def _fmt(key: str, v) -> str:
    if v is None or not math.isfinite(v):
        return "n/a"
    return f"{100 * v:.2f}%" if key == "accuracy" else f"{v:.4g}"


def metric_chart(r: dict) -> str:
    """Bars of the headline metric (accuracy, else the first one) under each runtime, values written on them."""
    names = list(r.get("float_metrics") or {})
    if not names:
        return ""
    key = "accuracy" if "accuracy" in names else names[0]
    scale = 100.0 if key == "accuracy" else 1.0
    values = [(r.get(k) or {}).get(key) for k, _ in RUNTIMES]
    values = [scale * v if v is not None and math.isfinite(v) else 0.0 for v in values]
    fig, ax = charts._figure(7.0, 1.8)
    y = list(range(len(RUNTIMES)))
    ax.barh(y, values, color=[charts.BLUE, "#27ae60", "#27ae60"])
    ax.set_yticks(y, [name for _, name in RUNTIMES])
    ax.invert_yaxis()
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:.2f}{'%' if scale == 100 else ''}", va="center", fontsize=8)
    ax.set_xlabel(f"{_label(key).lower()}{' (%)' if scale == 100 else ''} on the test split")
    if scale == 100:
        ax.set_xlim(0, 112)  # room for the value written after a 100% bar
    ax.grid(axis="x", alpha=0.3)
    return charts._svg(fig, f"Float vs int8 {_label(key).lower()}")


def sqnr_chart(layers: list[dict], worst: int | None) -> str:
    """Horizontal SQNR bars per op in execution order; the worst layer red. The MAX_BARS largest drops
    of a long graph."""
    shown = sorted(sorted(layers, key=lambda e: -e["drop_db"])[:MAX_BARS], key=lambda e: e["index"])
    fig, ax = charts._figure(7.5, 1.3 + 0.28 * len(shown))
    y = list(range(len(shown)))
    colors = [RED if e["index"] == worst else charts.BLUE for e in shown]
    ax.barh(y, [e["sqnr_db"] for e in shown], color=colors)
    for i, e in enumerate(shown):  # what the op itself loses: the SQNR alone hides where it is lost
        ax.text(
            max(e["sqnr_db"], 0), i, f" -{e['drop_db']:.1f} dB" if e["drop_db"] >= 0.05 else "", va="center", fontsize=7
        )
    ax.set_yticks(y, [charts._label(f"{e['index']} {e['op']}", 32) for e in shown])
    ax.invert_yaxis()
    ax.set_xlim(left=min(0, *(e["sqnr_db"] for e in shown)), right=1.15 * max(1, *(e["sqnr_db"] for e in shown)))
    more = f", the {MAX_BARS} largest drops of {len(layers)} ops" if len(layers) > MAX_BARS else ""
    ax.set_xlabel(f"SQNR of int8 vs float (dB, higher is better); -x dB: lost in that op, red: the most{more}")
    ax.grid(axis="x", alpha=0.3)
    return charts._svg(fig, "Per-layer SQNR")
