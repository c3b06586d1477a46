"""Report charts (matplotlib, inline SVG): labels stay text, hostile names stay harmless, output is stable."""

from __future__ import annotations

import re
import warnings

from tinyflow.workflows import charts


def _texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def test_labels_are_text_elements_with_an_accessible_name():
    svg = charts.histogram([3, 1, 0, 1], [100.0, 125.0, 150.0, 175.0, 200.0], "latency (µs)", "Latency histogram")
    assert svg.startswith("<svg role='img' aria-label='Latency histogram' ")
    assert "latency (µs)" in _texts(svg) and "samples" in _texts(svg)
    assert "<image" not in svg and "data:" not in svg  # vector only, nothing embedded


def test_hostile_names_neither_break_matplotlib_nor_the_svg():
    names = ["$\\frac{$", "\x00\x1b[31mred", "<b>&", "猫" * 40]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no glyph or mathtext warnings reach the user
        svg = charts.heat_map([[1, 0, 0, 0], [0, 2, 0, 0], [0, 0, 3, 0], [0, 0, 0, 4]], names, "Confusion matrix")
    labels = _texts(svg)
    assert "$\\frac{$" in labels and "\\x00\\x1b[31mred" in labels and "&lt;b&gt;&amp;" in labels
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", svg)
    assert "猫" * 13 not in svg and "猫" * 12 + "..." in svg  # a long name is cut


def test_same_input_same_bytes():
    a = charts.bars(["0 CONV_2D", "1 SOFTMAX"], [10.0, 1.0], "time (µs)", "Time per op")
    assert a == charts.bars(["0 CONV_2D", "1 SOFTMAX"], [10.0, 1.0], "time (µs)", "Time per op")


def test_profile_chart_keeps_the_slowest_ops_when_there_are_many():
    from tinyflow.workflows.report_html import MAX_BARS, render_profile

    ops = [{"index": i, "name": f"OP{i}", "ticks": i, "share": 0.001, "microseconds": float(i)} for i in range(200)]
    page = render_profile({"model": "m", "target": "t", "ops": ops, "latency_ms": 20.0})
    chart = page[page.index("<svg") : page.index("</svg>")]
    assert f"the {MAX_BARS} slowest of 200 ops" in chart
    assert f">{199} OP199<" in chart and ">0 OP0<" not in chart  # the chart; the table still has OP0
    assert page.count("<th>OP0</th>") == 1
