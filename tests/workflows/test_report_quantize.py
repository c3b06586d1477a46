"""`tinyflow quantize --report DIR`: float vs int8 metrics and the per-layer SQNR page
(tinyflow/workflows/report_quantize.py), opened in headless Chromium (issue 15). The page from a
real quantization is checked in test_report_train.py (train, then quantize)."""

from __future__ import annotations

import re

from test_reports_browser import _svg, _texts, render

from tinyflow.model.quantize import LayerError, QuantizeReport
from tinyflow.workflows import report_quantize
from tinyflow.workflows.report_html import MAX_BARS

LAYERS = [
    LayerError(0, "CONV_2D", "conv/x", 38.2, 1.2),
    LayerError(1, "MAX_POOL_2D", "pool", 38.0, 0.2),
    LayerError(2, "FULLY_CONNECTED", "dense/<b>", 30.5, 7.5),
    LayerError(3, "SOFTMAX", "sm", 29.9, 0.6),
]


def _report(layers=LAYERS, **metrics) -> dict:
    m = metrics or {"f": {"accuracy": 0.975}, "l": {"accuracy": 0.972}, "t": {"accuracy": 0.968}}
    r = QuantizeReport(m["f"], m["l"], m["t"], 40_000, 12_000, 270, list(layers), 0.98, 1, 16)
    return {**r.to_dict(), "model": "digits.keras", "output": "model.tflite"}


def _bar_widths(svg: str, color: str) -> list[float]:
    """Widths of the bars of one color (matplotlib writes a bar as a closed `M x y L ... z` path)."""
    widths = []
    for d in re.findall(rf'<path d="(M[^"]*z)\s*"[^>]*style="fill: {color}', svg):
        xs = [float(x) for x in re.findall(r"[ML] ([-\d.]+) ", d)]
        widths.append(max(xs) - min(xs))
    return widths


def test_metrics_table_has_float_and_both_int8_runtimes():
    page = report_quantize.render_quantize(_report())
    row = re.search(r"<tr><th>Accuracy</th>(.*?)</tr>", page).group(1)
    assert re.findall(r"<td>([^<]*)</td>", row) == ["97.50%", "97.20%", "96.80%"]
    assert "float 40,000 B -&gt; int8 12,000 B (0.30x)" in page and "98.0% of outputs identical" in page
    assert "on 16 test samples" in page and "int8 model model.tflite" in page


def test_sqnr_bars_follow_the_report_and_mark_the_worst_layer():
    page = report_quantize.render_quantize(_report())
    svg = re.search(r"<svg[^>]*aria-label='Per-layer SQNR'.*?</svg>", page, re.S).group(0)
    blue, red = _bar_widths(svg, "#3b7dd8"), _bar_widths(svg, "#c0392b")
    assert len(blue) == 3 and len(red) == 1  # the worst layer (largest drop) alone in red
    # bar lengths are proportional to the SQNR of each layer
    assert abs(red[0] / blue[0] - 30.5 / 38.2) < 0.01 and abs(blue[2] / blue[0] - 29.9 / 38.2) < 0.01
    worst = re.search(r'<tr id="worst-layer">(.*?)</tr>', page, re.S).group(1)
    assert "FULLY_CONNECTED" in worst and "7.5 (worst)" in worst and "dense/&lt;b&gt;" in worst
    assert "#2 FULLY_CONNECTED: loses 7.5 dB" in page


def test_a_long_graph_draws_the_largest_drops_and_lists_every_layer():
    layers = [LayerError(i, "ADD", f"t{i}", 40.0 - i / 100, (i * 37) % 101 / 10) for i in range(150)]
    page = report_quantize.render_quantize(_report(layers))
    svg = re.search(r"<svg[^>]*aria-label='Per-layer SQNR'.*?</svg>", page, re.S).group(0)
    assert len(_bar_widths(svg, "#3b7dd8")) + len(_bar_widths(svg, "#c0392b")) == MAX_BARS
    assert f"the {MAX_BARS} largest drops of 150 ops" in svg
    assert page.count("<th>ADD</th>") == 150


def test_regression_metrics_and_no_layers():
    metrics = {"f": {"mse": 0.01, "mae": 0.08}, "l": {"mse": 0.012, "mae": 0.09}, "t": {"mse": 0.012, "mae": 0.09}}
    page = report_quantize.render_quantize(_report([], **metrics))
    assert "<th>Mean squared error</th><td>0.01</td><td>0.012</td>" in page
    assert "Float vs int8 mean squared error" in page
    assert "No per-layer figures" in page and "Per-layer SQNR" not in page and 'id="layers"' not in page


def test_the_page_renders_in_chromium(tmp_path):
    path = report_quantize.write_quantize_page(tmp_path / "rep", _report())
    assert path == tmp_path / "rep" / "quantize.html"
    dom, console = render(path, tmp_path)
    assert console == []
    assert "Quantization of digits.keras to int8" in dom and 'id="worst-layer"' in dom
    bars = _texts(_svg(dom, "Per-layer SQNR"))
    assert all(f"{i} {op}" in bars for i, op in enumerate(["CONV_2D", "MAX_POOL_2D", "FULLY_CONNECTED", "SOFTMAX"]))
    assert "int8 (TFLM)" in _texts(_svg(dom, "Float vs int8 accuracy"))
