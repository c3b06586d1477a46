"""Self-contained HTML reports (eval, profile): jinja2 templates and matplotlib's inline SVG charts.

Pure: `render(report_dict) -> str` from EvalReport.to_dict() and `render_profile(report_dict)` from
ProfileReport.to_dict(); writing the files is the callers' job.
The page loads nothing (no script, stylesheet, font or image from anywhere), so it opens offline
and from a CI artifact. jinja2 autoescapes every value: model, file and class names are untrusted.
"""

from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path

from tinyflow.report import fmt_latency
from tinyflow.workflows import charts

MAX_HEAT_MAP = 64  # classes drawn as a heat map: n * n cells (3,001 classes were 1.2 GB of HTML)
MAX_BARS = 60  # ops drawn in the profile's bar chart (the table lists every op)

CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em auto;color:#222;max-width:980px;padding:0 1em}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;"
    "text-align:right}th,td:first-child{background:#f3f3f3;text-align:left}.meta{color:#555}"
    ".banner{padding:.8em 1em;border-radius:6px;font-size:1.2em;font-weight:bold;margin:1em 0}"
    ".pass{background:#e3f5e8;color:#0a5c26}.fail{background:#fde5e8;color:#9b0018}"
    ".unset{background:#eef1f5;color:#333;font-weight:normal;font-size:1em}.bad{color:#b00020;font-weight:bold}"
    "svg{max-width:100%;height:auto}"
)

# One base page; each report fills its blocks (jinja2 template inheritance).
TEMPLATES = {
    "base.html": """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title><style>{{ css }}</style></head>
<body>
<header><h1>{{ title }}</h1>
<p class="meta" id="meta">model <b>{{ r.model }}</b>{% if sha %} (sha256 {{ sha }}){% endif %}
{% if r.target %} &middot; target {{ r.target }}{% endif %}{% block meta %}{% endblock %}
 &middot; {{ generated }} &middot; tinyflow {{ version }}</p></header>
{% block body %}{% endblock %}
{% for n in notes %}<p class="meta">Note: {{ n }}</p>{% endfor %}
</body></html>
""",
    "eval.html": """{% extends "base.html" %}
{% block meta %} &middot; dataset {{ dataset }}{% endblock %}
{% block body %}<div id="verdict" class="banner {{ verdict.state }}">{{ verdict.text }}</div>
{% if verdict.checks %}<table id="checks"><tr><th>check</th><th>limit</th><th>measured</th><th>result</th></tr>
{% for c in verdict.checks %}<tr><td>{{ c.label }}</td><td>{{ c.limit_text }}</td><td>{{ c.value_text }}</td>
<td class="{{ 'ok' if c.passed else 'bad' }}">{{ 'pass' if c.passed else 'FAIL' }}</td></tr>{% endfor %}</table>{% endif %}
<h2>Summary</h2>
<table id="summary">{% for label, value, bad in summary %}<tr><th>{{ label }}</th>
<td{% if bad %} class="bad"{% endif %}>{{ value }}</td></tr>{% endfor %}</table>
{% if confusion is not none %}<h2>Confusion matrix</h2>
<div id="confusion">{% if confusion_svg %}{{ confusion_svg | safe }}{% else %}<p>{{ too_many }}</p>{% endif %}</div>
<h2>Per class</h2>
<table id="per-class"><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>
{% for c in per_class %}<tr><th>{{ c.name }}</th><td>{{ "%.3f" % c.precision }}</td><td>{{ "%.3f" % c.recall }}</td>
<td>{{ "%.3f" % c.f1 }}</td><td>{{ c.support }}</td></tr>{% endfor %}</table>{% endif %}
{% if latency_svg %}<h2>Latency</h2><p class="meta">{{ basis }}</p><div id="latency">{{ latency_svg | safe }}</div>{% endif %}
<h2>Device</h2>
<table id="device">{% for label, value in device %}<tr><th>{{ label }}</th><td>{{ value }}</td></tr>{% endfor %}</table>
{% endblock %}""",
    "profile.html": """{% extends "base.html" %}
{% block meta %} &middot; {{ r.runtime }} runtime{% if r.board %} &middot; board {{ r.board }}{% endif %}{% endblock %}
{% block body %}<h2>Summary</h2>
<table id="summary">{% for label, value in summary %}<tr><th>{{ label }}</th><td>{{ value }}</td></tr>{% endfor %}</table>
<h2>Time per op</h2><div id="ops-chart">{{ ops_svg | safe }}</div>
<table id="ops"><tr><th>#</th><th>op</th><th>ticks</th><th>share</th><th>time ({{ unit }})</th></tr>
{% for op in ops %}<tr><td>{{ op.index }}</td><th>{{ op.name }}</th><td>{{ "{:,}".format(op.ticks) }}</td>
<td>{{ "%.1f%%" % (100 * op.share) }}</td><td>{{ op.time }}</td></tr>{% endfor %}</table>
{% endblock %}""",
    "inspect.html": """{% extends "base.html" %}
{% block meta %} &middot; {{ r.runtime }} runtime{% endblock %}
{% block body %}<div id="verdict" class="banner {{ verdict.state }}">{{ verdict.text }}</div>
<h2>Budget</h2>
<table id="budget">{% for label, value in budget %}<tr><th>{{ label }}</th><td>{{ value }}</td></tr>{% endfor %}</table>
<h2>Memory timeline</h2><div id="timeline">{{ timeline_svg | safe }}</div>
<h2>Ops</h2>
<table id="ops"><tr><th>#</th><th>op</th><th>output</th><th>MACs</th><th>params</th><th>live activations</th></tr>
{% for op in ops %}<tr><td>{{ op.index }}</td><th>{{ op.op }}</th><td>{{ op.shape }}</td><td>{{ "{:,}".format(op.macs) }}</td>
<td>{{ "{:,}".format(op.params) }}</td><td>{{ "{:,}".format(op.live) }} B</td></tr>{% endfor %}</table>
{% endblock %}""",
}

# report.json keys -> what a person reads; keys not listed are shown as they are.
LABELS = {
    "accuracy": "Accuracy",
    "macro_f1": "Macro F1",
    "mae": "Mean absolute error",
    "rmse": "Root mean squared error",
    "mse": "Mean squared error",
    "auc": "ROC AUC",
    "exact_match_rate": "Outputs identical to the TFLM reference",
    "top1_agreement": "Same top-1 class as the reference",
    "max_abs_diff": "Largest output difference (int8 steps)",
    "reference": "Reference runtime",
    "lost": "Samples lost",
    "duplicated": "Samples duplicated",
    "retries": "Retries",
    "resyncs": "Resyncs",
    "resets": "Device resets",
    "resumed": "Samples resumed from the journal",
    "journal_damaged": "Journal lines damaged",
}
RATES = {"accuracy", "macro_f1", "exact_match_rate", "top1_agreement"}  # shown as percentages
BAD_WHEN_NONZERO = {"lost", "duplicated", "journal_damaged"}


def _page(template: str, report: dict, templates: dict[str, str] | None = None, **context) -> str:
    """Render one of TEMPLATES (or of `templates`, pages that extend base.html) with the header every
    report shares (model, target, date, version)."""
    from jinja2 import DictLoader, Environment

    from tinyflow import __version__

    loader = DictLoader({**TEMPLATES, **(templates or {})})
    env = Environment(loader=loader, autoescape=True, keep_trailing_newline=True)
    generated = report.get("generated") or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return env.get_template(template).render(
        r=report,
        css=CSS,
        sha=(report.get("model_sha256") or "")[:16],
        generated=generated,
        version=report.get("tinyflow_version") or __version__,
        notes=report.get("notes") or [],
        **context,
    )


def render(report: dict) -> str:
    """The whole page for one evaluation (report = EvalReport.to_dict())."""
    metrics = report.get("metrics") or {}
    names = report.get("class_names") or []
    confusion = metrics.get("confusion")
    n = len(confusion) if confusion is not None else None
    lat = report.get("latency") or {}
    hist = lat.get("histogram") or {}
    context = {
        "title": f"Evaluation of {report.get('model', '?')} on {report.get('target', '?')}",
        "dataset": _dataset(report),
        "verdict": verdict(report.get("checks") or []),
        "summary": summary(report),
        "confusion": n,
        "too_many": f"The {n or 0:,} x {n or 0:,} matrix is in report.json (a heat map stops at {MAX_HEAT_MAP} classes).",
        "confusion_svg": charts.heat_map(confusion, names, "Confusion matrix") if n and n <= MAX_HEAT_MAP else "",
        "per_class": [{**c, "name": _name(c["class"], names)} for c in metrics.get("per_class") or []],
        "latency_svg": _latency_chart(hist),
        "basis": f"Latency {lat['basis']}" if lat.get("basis") else "",
        "device": device_rows(report.get("device") or {}),
    }
    return _page("eval.html", report, **context)


def render_profile(report: dict) -> str:
    """The page for one profile (report = ProfileReport.to_dict()): summary, per-op chart and table."""
    ops = report.get("ops") or []
    unit = fmt_latency(1e3 * (report.get("latency_ms") or 0)).rsplit(" ", 1)[-1]
    scale = {"µs": 1.0, "ms": 1e3, "s": 1e6}.get(unit, 1.0)
    # the slowest MAX_BARS ops, in execution order: a bar per op of a 1,000-op graph is unreadable
    shown = sorted(sorted(ops, key=lambda op: -op["microseconds"])[:MAX_BARS], key=lambda op: op["index"])
    labels = [f"{op['index']} {op['name']}" for op in shown]
    xlabel = f"time per op ({unit})" + (f", the {MAX_BARS} slowest of {len(ops)} ops" if len(ops) > MAX_BARS else "")
    chart = charts.bars(labels, [op["microseconds"] / scale for op in shown], xlabel, "Time per op")
    rows = [{**op, "time": f"{op['microseconds'] / scale:,.{1 if unit == 'µs' else 3}f}"} for op in ops]
    title = f"Profile of {report.get('model', '?')} on {report.get('target', '?')}"
    return _page(
        "profile.html", report, title=title, summary=profile_summary(report), ops=rows, unit=unit, ops_svg=chart
    )


def render_inspect(report: dict) -> str:
    """The page for `inspect --report` (report = InspectReport.to_dict()): verdict, budget, memory timeline, ops."""
    live = report.get("activation_timeline") or []
    arena = report.get("arena") or {}
    levels = {}
    if arena.get("head_bytes"):
        levels["TFLM's planned activations"] = arena["head_bytes"]
    if arena.get("arena_bytes"):
        levels["TFLM arena (measured)"] = arena["arena_bytes"]
    planned = ((report.get("aot") or {}).get("memory") or {}).get("ram_bytes")
    if planned:
        levels["compiled (aot) plan"] = planned
    chart = charts.timeline(live, levels, "op (execution order)", "live activation bytes", "Memory timeline")
    ops = [
        {**op, "shape": "x".join(map(str, op.get("output") or [])), "live": live[i] if i < len(live) else 0}
        for i, op in enumerate(report.get("ops") or [])
    ]
    title = f"Inspection of {report.get('model', '?')}"
    context = {"title": title, "verdict": _fit_verdict(report.get("fit")), "budget": inspect_budget(report)}
    return _page(
        "inspect.html", {**report, "model_sha256": report.get("sha256")}, timeline_svg=chart, ops=ops, **context
    )


def _fit_verdict(fit: dict | None) -> dict:
    if not fit:
        return {"state": "unset", "text": "No board given: inspect --board ID --report DIR checks the fit."}
    return {"state": "pass" if fit.get("fits") else "fail", "text": f"{fit['board']}: {fit['verdict']}"}


def inspect_budget(r: dict) -> list[tuple[str, str]]:
    """(label, value) rows: what the model costs, and what the board gives when one was named."""
    rows = [
        ("Parameters", f"{r.get('params', 0):,}"),
        ("Weights", _bytes(r.get("weight_bytes"))),
        ("MACs per inference", f"{r.get('macs', 0):,}"),
        ("Peak live activations", _bytes(max(r.get("activation_timeline") or [0]))),
    ]
    arena = r.get("arena") or {}
    if arena.get("arena_bytes"):
        rows.append(("TFLM arena (measured)", _bytes(arena["arena_bytes"])))
    unsupported = (r.get("tflm") or {}).get("unsupported_ops") or []
    rows.append(
        ("TFLM op support", "all ops supported" if not unsupported else "NOT supported: " + ", ".join(unsupported))
    )
    for kind in ("flash", "ram"):
        m = (r.get("fit") or {}).get(kind)
        if m:
            rows.append(
                (
                    f"{kind.upper() if kind == 'ram' else 'Flash'} needed / usable",
                    f"{_bytes(m['needed'])} of {_bytes(m['usable'])} ({100 * m['used_fraction']:.1f}%)",
                )
            )
    return rows


def profile_summary(r: dict) -> list[tuple[str, str]]:
    """(label, value) rows of a profile: latency, instructions, memory, with the stack reserve as RAM."""
    estimate = " (estimate from exact instruction counts)" if r.get("instructions") is not None else ""
    rows = [("Latency per inference", fmt_latency(1e3 * (r.get("latency_ms") or 0)) + estimate)]
    if r.get("instructions") is not None:
        rows.append(("Instructions per inference", f"{r['instructions']:,} (exact, QEMU -icount)"))
    source = r.get("memory_source") or "device"
    reserve = f" + {r['stack_reserve']:,} B stack reserve" if r.get("stack_reserve") else ""
    rows += [
        ("Flash", f"{_bytes(r.get('flash_bytes'))} ({source})"),
        ("Static RAM", f"{_bytes(r.get('ram_bytes'))}{reserve} ({source})"),
        ("Arena used", f"{_bytes(r.get('arena_used'))} of {_bytes(r.get('arena_bytes'))}"),
        ("Stack high-water", _bytes(r.get("stack_high_water"))),
        ("Ops timed", f"{len(r.get('ops') or [])}, {100 * (r.get('coverage') or 0):.1f}% of the inference"),
        ("Runs (median per op)", str(r.get("runs", 1))),
    ]
    return rows


def _bytes(n) -> str:
    return "n/a" if n is None else f"{n:,} B"


def write_page(directory, name: str, report: dict) -> Path:
    """Render `report` with the page for `name` (inspect.html) into DIR/name, atomically; returns the path."""
    from tinyflow.outputs import atomic_write, make_dir, writing

    render_page = {"inspect.html": render_inspect, "profile.html": render_profile, "report.html": render}[name]
    path = make_dir(Path(directory)) / name
    with writing(path):
        atomic_write(path, render_page(report).encode())
    return path


def verdict(checks: list[dict]) -> dict:
    """The banner: pass/fail over the user's thresholds (EvalReport.checks), or a hint to set some."""
    if not checks:
        return {
            "state": "unset",
            "text": "No thresholds set: give eval --min-accuracy, --min-agreement or --max-latency-ms for a verdict.",
            "checks": [],
        }
    failed = [c["label"] for c in checks if not c["passed"]]
    text = "PASS: every threshold is met" if not failed else "FAIL: " + ", ".join(failed)
    return {"state": "fail" if failed else "pass", "text": text, "checks": checks}


def summary(r: dict) -> list[tuple[str, str, bool]]:
    """(label, value, is_bad) rows: task metrics, agreement with the reference, latency, link health."""
    rows = [("Samples", _value("samples", r.get("samples")), False)]
    for key, value in (r.get("metrics") or {}).items():
        if key != "note" and (value is None or isinstance(value, (int, float))) and not isinstance(value, bool):
            rows.append((_label(key), _value(key, value), False))
    for key in ("reference", "exact_match_rate", "top1_agreement", "max_abs_diff"):
        if key in (r.get("agreement") or {}):
            rows.append((LABELS[key], _value(key, r["agreement"][key]), False))
    lat = r.get("latency") or {}
    if lat.get("samples"):
        rows.append(("Latency p50 / p90 / p99", fmt_latency(lat["p50_us"], lat["p90_us"], lat["p99_us"]), False))
        if lat.get("throughput_per_s"):
            rows.append(("Throughput (host wall time)", f"{lat['throughput_per_s']:,.1f} samples/s", False))
    for key, value in (r.get("link") or {}).items():
        if value is None:  # a link setting that was not used (no --baud, no --inject-faults)
            continue
        bad = key in BAD_WHEN_NONZERO and bool(value)
        rows.append((_label(key), _value(key, value), bad))
    return rows


def device_rows(d: dict) -> list[tuple[str, str]]:
    """Scalars as rows; one nested level (e.g. the device's stats) as `stats: key` rows."""
    flat = []
    for k, v in d.items():
        if isinstance(v, dict):
            flat += [
                (f"{_label(k)}: {_label(k2)}", _value(k2, v2))
                for k2, v2 in v.items()
                if not isinstance(v2, (dict, list))
            ]
        elif not isinstance(v, list):
            flat.append((_label(k), _value(k, v)))
    return flat


def _latency_chart(hist: dict) -> str:
    if not hist.get("counts"):
        return ""
    peak = max(abs(e) for e in hist["edges"])
    unit = fmt_latency(peak).rsplit(" ", 1)[-1]  # the unit the summary would use for the slowest sample
    scale = {"µs": 1.0, "ms": 1e3, "s": 1e6}[unit]
    edges = [e / scale for e in hist["edges"]]
    return charts.histogram(hist["counts"], edges, f"latency per inference ({unit})", "Latency histogram")


def _dataset(r: dict) -> str:
    task = r.get("task")
    return f"{r.get('dataset', '?')} ({task})" if task and task != "none" else str(r.get("dataset", "?"))


def _label(key: str) -> str:
    """A report.json key as words: LABELS, else `arena_used` -> `Arena used`."""
    return LABELS.get(key) or str(key).replace("_", " ").capitalize()


def _name(i: int, names: list[str]) -> str:
    return str(names[i]) if i < len(names) else str(i)


def _value(key: str, v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if key in RATES and isinstance(v, (int, float)):
        return f"{100 * v:.1f}%"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
    return f"{v:,}" if isinstance(v, int) else str(v)
