"""A self-contained report.html for an evaluation: tables and inline SVG plots, no external assets.

Pure: `render(report_dict) -> str` from EvalReport.to_dict(); writing the file is the caller's job.
"""

from __future__ import annotations

import html

MAX_HEAT_MAP = 64  # classes drawn as SVG cells: n * n of them (3,001 classes were 1.2 GB of HTML)

CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:960px}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;"
    "text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}"
    ".bad{color:#b00020;font-weight:bold}.ok{color:#0a7a32;font-weight:bold}small{color:#666}"
)


def render(report: dict) -> str:
    """The whole page for one evaluation (report = EvalReport.to_dict())."""
    title = f"tinyflow eval: {report.get('model', '?')} on {report.get('target', '?')}"
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title>"
        f"<style>{CSS}</style></head><body><h1>{_e(title)}</h1>",
        _summary(report),
    ]
    metrics = report.get("metrics") or {}
    if "confusion" in metrics:
        n = len(metrics["confusion"])
        heat_map = (
            svg_confusion(metrics["confusion"], report.get("class_names") or [])
            if n <= MAX_HEAT_MAP
            else f"<p>The {n:,} x {n:,} matrix is in report.json (a heat map stops at {MAX_HEAT_MAP} classes).</p>"
        )
        parts += [
            "<h2>Confusion matrix</h2><p><small>rows: true class, columns: predicted class</small></p>",
            heat_map,
            "<h2>Per class</h2>",
            _per_class(metrics["per_class"], report.get("class_names") or []),
        ]
    lat = report.get("latency") or {}
    hist = lat.get("histogram") or {}
    if hist.get("counts"):
        parts += [
            "<h2>Latency</h2>",
            f"<p><small>{_e(lat.get('basis', ''))}</small></p>",
            svg_histogram(hist["counts"], hist["edges"], "latency (us)"),
        ]
    parts += ["<h2>Device</h2>", _kv(report.get("device") or {}), "</body></html>\n"]
    return "".join(parts)


def _summary(r: dict) -> str:
    rows = [("dataset", f"{r.get('dataset')} ({r.get('task')})"), ("samples", r.get("samples"))]
    for key, value in (r.get("metrics") or {}).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            rows.append((key, _num(value)))
    agree = r.get("agreement") or {}
    for key in ("exact_match_rate", "top1_agreement", "max_abs_diff"):
        if key in agree:
            rows.append((f"agreement: {key}", _num(agree[key])))
    lat = r.get("latency") or {}
    for key in ("p50_us", "p90_us", "p99_us", "throughput_per_s"):
        if key in lat:
            rows.append((key, _num(lat[key])))
    link = r.get("link") or {}
    for key, value in link.items():
        cls = "bad" if key in ("lost", "duplicated", "journal_damaged") and value else ""
        rows.append((f"link: {key}", f"<span class='{cls}'>{_e(value)}</span>" if cls else value))
    rows += [("note", n) for n in r.get("notes") or []]
    return (
        "<table>"
        + "".join(f"<tr><th>{_e(k)}</th><td>{v if str(v).startswith('<span') else _e(v)}</td></tr>" for k, v in rows)
        + "</table>"
    )


def _per_class(per_class: list[dict], names: list[str]) -> str:
    head = "<tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>"
    rows = "".join(
        f"<tr><td>{_e(_name(c['class'], names))}</td><td>{c['precision']:.3f}</td>"
        f"<td>{c['recall']:.3f}</td><td>{c['f1']:.3f}</td><td>{c['support']}</td></tr>"
        for c in per_class
    )
    return f"<table>{head}{rows}</table>"


def _kv(d: dict) -> str:
    """Scalars as rows; one nested level (e.g. the device's stats) as `stats: key` rows."""
    flat = []
    for k, v in d.items():
        if isinstance(v, dict):
            flat += [(f"{k}: {k2}", v2) for k2, v2 in v.items() if not isinstance(v2, (dict, list))]
        elif not isinstance(v, list):
            flat.append((k, v))
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in flat)
    return f"<table>{rows}</table>"


def svg_confusion(matrix: list[list[int]], names: list[str], cell: int = 34) -> str:
    """A heat map: darker = more samples; each cell shows its count."""
    n = len(matrix)
    if n == 0:
        return ""
    cell = max(14, min(cell, 600 // n))
    label = 90
    size = label + n * cell + 10
    peak = max((v for row in matrix for v in row), default=0) or 1
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{size}' height='{size}' role='img' "
        "aria-label='confusion matrix'>"
    ]
    font = max(8, min(12, cell // 3))
    for i, row in enumerate(matrix):
        y = label + i * cell
        out.append(
            f"<text x='{label - 4}' y='{y + cell / 2 + 4:.0f}' text-anchor='end' font-size='{font}'>"
            f"{_e(_name(i, names))[:12]}</text>"
        )
        out.append(
            f"<text x='{y + cell / 2:.0f}' y='{label - 4}' text-anchor='middle' font-size='{font}'>"
            f"{_e(_name(i, names))[:6]}</text>"
        )
        for j, v in enumerate(row):
            x = label + j * cell
            shade = v / peak
            fill = f"rgb({int(255 - 196 * shade)},{int(255 - 130 * shade)},{int(255 - 39 * shade)})"
            ink = "#fff" if shade > 0.55 else "#222"
            out.append(
                f"<rect x='{x}' y='{y}' width='{cell}' height='{cell}' fill='{fill}' stroke='#fff'>"
                f"<title>true {_e(_name(i, names))}, predicted {_e(_name(j, names))}: {v}</title></rect>"
            )
            if v:
                out.append(
                    f"<text x='{x + cell / 2:.0f}' y='{y + cell / 2 + 4:.0f}' text-anchor='middle' "
                    f"font-size='{font}' fill='{ink}'>{v}</text>"
                )
    out.append("</svg>")
    return "".join(out)


def svg_histogram(counts: list[int], edges: list[float], xlabel: str, width: int = 640, height: int = 220) -> str:
    """Vertical bars, one per bin, with the first and last edge and the peak count labelled."""
    if not counts:
        return ""
    left, bottom, top = 50, 36, 12
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max(counts) or 1
    bar_w = plot_w / len(counts)
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
        f"aria-label='{_e(xlabel)} histogram'>",
        f"<line x1='{left}' y1='{top + plot_h}' x2='{left + plot_w}' y2='{top + plot_h}' stroke='#444'/>",
        f"<text x='{left - 4}' y='{top + 10}' text-anchor='end' font-size='11'>{peak}</text>",
    ]
    for k, c in enumerate(counts):
        h = plot_h * c / peak
        x = left + k * bar_w
        out.append(
            f"<rect x='{x + 1:.1f}' y='{top + plot_h - h:.1f}' width='{max(bar_w - 2, 1):.1f}' "
            f"height='{h:.1f}' fill='#3b7dd8'><title>{edges[k]:.1f} to {edges[k + 1]:.1f}: {c}</title></rect>"
        )
    out += [
        f"<text x='{left}' y='{height - 20}' font-size='11'>{edges[0]:.1f}</text>",
        f"<text x='{left + plot_w}' y='{height - 20}' text-anchor='end' font-size='11'>{edges[-1]:.1f}</text>",
        f"<text x='{left + plot_w / 2:.0f}' y='{height - 4}' text-anchor='middle' font-size='12'>{_e(xlabel)}</text>",
        "</svg>",
    ]
    return "".join(out)


def _name(i: int, names: list[str]) -> str:
    return names[i] if i < len(names) else str(i)


def _num(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _e(v) -> str:
    return html.escape(str(v), quote=True)
