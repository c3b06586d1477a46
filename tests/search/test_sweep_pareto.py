"""Pareto math on known points, and the front's JSON and HTML page (no TensorFlow, no Ray)."""

from __future__ import annotations

import itertools
import json

import numpy as np

from tinyflow.search.config import SweepConfig
from tinyflow.search.pareto import dominates, front, front_document, non_dominated, render_front, write_front

MAX_MIN = ["maximize", "minimize"]


def test_dominance_respects_each_direction():
    assert dominates([0.9, 100], [0.8, 200], MAX_MIN)
    assert dominates([0.9, 100], [0.9, 200], MAX_MIN)  # equal in one, better in the other
    assert not dominates([0.9, 100], [0.9, 100], MAX_MIN)  # equal is not better
    assert not dominates([0.9, 300], [0.8, 200], MAX_MIN)  # a trade-off
    assert dominates([0.8, 200], [0.9, 100], ["minimize", "maximize"])


def test_front_of_known_points():
    # (accuracy up, ram down): A B C trade off; D is dominated by B; E duplicates C and stays with it
    points = [[0.95, 300], [0.90, 200], [0.80, 100], [0.85, 250], [0.80, 100], [0.70, 400]]
    assert non_dominated(points, MAX_MIN) == [0, 1, 2, 4]


def test_front_is_exactly_the_brute_force_non_dominated_set():
    rng = np.random.default_rng(3)
    directions = ["maximize", "minimize", "minimize"]
    points = rng.integers(0, 6, size=(60, 3)).tolist()  # small integers: many ties and duplicates
    got = non_dominated(points, directions)
    signs = np.array([-1, 1, 1])
    want = [
        i
        for i, p in enumerate(points)
        if not any(np.all(signs * q <= signs * p) and np.any(signs * q < signs * p) for q in points)
    ]
    assert got == want and 0 < len(got) < len(points)
    for i, j in itertools.product(got, got):
        assert not dominates(points[i], points[j], directions)


def _trials():
    def t(n, acc, ram, fits=True):
        return {"number": n, "params": {"width": n / 4}, "metrics": {"accuracy": acc, "ram": ram}, "feasible": fits}

    # trial 3 would dominate everything, but it does not fit its board
    return [t(0, 0.9, 200), t(1, 0.8, 100), t(2, 0.7, 150), t(3, 0.99, 50, fits=False)]


def test_a_trial_that_does_not_fit_is_never_on_the_front():
    assert [t["number"] for t in front(_trials(), ["accuracy", "ram"], MAX_MIN)] == [0, 1]


def test_json_and_html_of_the_front(tmp_path):
    config = SweepConfig(objectives=("accuracy", "ram", "fit"))
    doc = front_document(config, _trials(), {"completed": 4, "failed": 0, "trials_planned": 4, "dataset": "digits"})
    assert doc["objectives"] == [
        {"name": "accuracy", "direction": "maximize"},
        {"name": "ram", "direction": "minimize"},
    ]
    assert doc["constraints"] == ["fit"] and [t["number"] for t in doc["front"]] == [0, 1]
    json_path, html_path = write_front(tmp_path, doc)
    assert json.loads(json_path.read_text()) == doc
    page = html_path.read_text()
    assert "aria-label='accuracy vs ram'" in page and "<svg" in page
    assert not any(tag in page for tag in ("<script", "<link", " src=", "@import"))  # loads nothing (no CDN)
    assert page.count("<tr><td>") == 2  # the two front trials in the table


def test_untrusted_text_in_the_page_is_escaped():
    doc = front_document(
        SweepConfig(objectives=("accuracy", "ram")),
        [{"number": 0, "params": {"board": "<b>x</b>"}, "metrics": {"accuracy": 0.5, "ram": 10}, "feasible": True}],
        {"dataset": "<script>alert(1)</script>"},
    )
    page = render_front(doc)
    assert "<script>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
