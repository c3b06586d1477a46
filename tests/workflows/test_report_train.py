"""`tinyflow train --report DIR`: the learning-curve page (tinyflow/workflows/report_train.py), built
from the report's history and opened in headless Chromium like the other reports (issue 15)."""

from __future__ import annotations

import math
import re

import pytest
from click.testing import CliRunner
from test_reports_browser import _svg, _texts, render

from tinyflow.model.train import TrainReport
from tinyflow.workflows import report_train

HISTORY = {
    "loss": [1.2, 0.8, 0.5, 0.45, 0.47],
    "accuracy": [0.5, 0.7, 0.85, 0.88, 0.87],
    "val_loss": [1.1, 0.9, 0.6, 0.55, 0.58],
    "val_accuracy": [0.55, 0.7, 0.8, 0.84, 0.83],
    "learning_rate": [1e-3] * 5,
}


def _report(history=HISTORY, best=4, **kw) -> dict:
    return TrainReport("tiny_cnn", "digits/train", len(history["loss"]), best, history, {"accuracy": 0.84}, 12.3, **kw)


def _chart(page: str, label: str) -> str:
    """The `<svg>` labelled `label` in a page as written (single-quoted attributes, unlike the DOM)."""
    match = re.search(rf"<svg[^>]*aria-label='{re.escape(label)}'.*?</svg>", page, re.S)
    assert match, f"no chart labelled {label!r}"
    return match.group(0)


def _line_points(svg: str) -> list[int]:
    """Points of each data line in the plot (matplotlib writes a line as one `M x y L x y ...` path in
    its color; the legend's sample lines come after `legend_`)."""
    plot = svg.split('id="legend_')[0]
    paths = re.findall(r'<path d="(M[^"]*)"[^>]*style="fill: none; stroke: (?:#3b7dd8|#e67e22)', plot)
    return [len(re.findall(r"[ML] ", d)) for d in paths]


def test_page_has_a_curve_per_quantity_with_both_splits_and_the_best_epoch():
    page = report_train.render_train(_report(path="m.keras").to_dict())
    loss, acc = _chart(page, "Loss per epoch"), _chart(page, "Accuracy per epoch")
    for svg in (loss, acc):
        texts = _texts(svg)
        assert "training" in texts and "validation" in texts and "best epoch (4)" in texts and "epoch" in texts
        assert _line_points(svg) == [5, 5]  # one point per epoch, per split
    assert "accuracy (%)" in _texts(acc) and "loss" in _texts(loss)
    assert "Learning rate" not in page and "learning_rate" not in page  # not a learning curve
    assert re.search(r"<th>Validation accuracy</th><td>84.00%</td>", page)
    best = re.search(r'<tr id="best-epoch">(.*?)</tr>', page, re.S).group(1)
    assert "4 (best)" in best and "0.55" in best and "88.00%" in best
    assert "m.keras" in page and "tinyflow 0." in page


def test_regression_history_draws_its_own_metric():
    history = {"loss": [2.0, 1.0], "mae": [1.1, 0.7], "val_loss": [2.2, 1.4], "val_mae": [1.2, 0.9]}
    page = report_train.render_train(_report(history, best=2, metrics_on="validation").to_dict())
    assert "Mean absolute error per epoch" in page and "Accuracy" not in page
    assert report_train.metric_names(history) == ["loss", "mae"]


def test_without_validation_there_is_one_line_and_the_summary_says_training():
    history = {"accuracy": [0.3, 0.6, 0.7], "loss": [1.0, 0.7, 0.6]}
    report = TrainReport("mlp", "x.npz", 3, 3, history, {"accuracy": 0.7}, 1.0, metrics_on="training")
    page = report_train.render_train(report.to_dict())
    assert report_train.metric_names(history) == ["loss", "accuracy"]  # loss first whatever Keras logged
    assert _line_points(_chart(page, "Loss per epoch")) == [3]
    assert "<th>Training accuracy</th>" in page and "lowest training loss" in page and "no validation split" in page


def test_a_diverged_run_renders_with_gaps_and_na():
    history = {"loss": [1.0, math.nan, math.inf], "val_loss": [1.1, 1.0, math.nan]}
    page = report_train.render_train(_report(history, best=2).to_dict())
    assert "Loss per epoch" in page and "<td>n/a</td>" in page and ">nan<" not in page and ">inf<" not in page


def test_long_runs_list_every_kth_epoch_with_the_best_and_the_last():
    n = 1000
    history = {"loss": [1 / (i + 1) for i in range(n)], "val_loss": [abs(i - 377) / n for i in range(n)]}
    columns, rows = report_train.epoch_rows(history, ["loss"], 378)
    epochs = [r["epoch"] for r in rows]
    assert columns == ["training loss", "validation loss"]
    assert len(rows) <= report_train.MAX_ROWS + 2 and 378 in epochs and n in epochs and epochs == sorted(epochs)
    page = report_train.render_train(_report(history, best=378).to_dict())
    assert "One epoch in 10 of 1,000, with the best and the last" in page


def test_untrusted_names_are_escaped():
    report = _report()
    report.dataset = "<script>alert(1)</script>.npz"
    page = report_train.render_train(report.to_dict())
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_the_page_renders_in_chromium(tmp_path):
    path = report_train.write_train_page(tmp_path / "rep", _report(path="m.keras").to_dict())
    assert path == tmp_path / "rep" / "train.html"
    dom, console = render(path, tmp_path)
    assert console == []
    assert "Training of tiny_cnn on digits/train" in dom and 'id="best-epoch"' in dom
    assert "best epoch (4)" in _texts(_svg(dom, "Loss per epoch"))
    assert "validation" in _texts(_svg(dom, "Accuracy per epoch"))


@pytest.mark.parametrize("verb", ["train", "quantize"])
def test_an_unwritable_report_folder_fails_before_the_work(verb, tmp_path, monkeypatch):
    from tinyflow.cli.main import cli
    from tinyflow.model import pipeline

    def started(*args, **kwargs):
        raise AssertionError("the work started")

    monkeypatch.setattr(pipeline, "train_file", started)
    monkeypatch.setattr(pipeline, "quantize_file", started)
    blocker = tmp_path / "rep"
    blocker.write_text("a file where the report folder should be")
    model = tmp_path / "m.keras"
    model.write_bytes(b"x")
    args = ["-d", "digits", "--report", str(blocker / "sub")]  # click itself refuses a file as DIR
    argv = ["train", *args] if verb == "train" else ["quantize", str(model), *args]
    r = CliRunner().invoke(cli, argv)
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith(f"Error: Cannot write {blocker}") and r.stderr.count("\n") == 1


@pytest.mark.tf
@pytest.mark.slow
def test_train_and_quantize_write_their_reports_from_the_cli(tf, tmp_path, monkeypatch):
    """The real thing: `train --report` and `quantize --report` pages from a short run (~20 s)."""
    from tinyflow.cli.main import cli

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    r = runner.invoke(
        cli, ["train", "-d", "digits", "-m", "tiny_cnn", "--epochs", "3", "-o", "m.keras", "--report", "t"]
    )
    assert r.exit_code == 0, r.output
    assert "report: t/train.html" in r.stderr
    r = runner.invoke(cli, ["quantize", "m.keras", "-d", "digits", "-o", "m.tflite", "--report", "q"])
    assert r.exit_code == 0, r.output
    assert "report: q/quantize.html" in r.stderr
    dom, console = render(tmp_path / "t" / "train.html", tmp_path)
    assert console == [] and len(re.findall(r'<tr( id="best-epoch")?><td>', dom)) == 3
    assert "validation" in _texts(_svg(dom, "Accuracy per epoch"))
    dom, console = render(tmp_path / "q" / "quantize.html", tmp_path)
    assert console == [] and "Quantization of m.keras to int8" in dom
    bars = _texts(_svg(dom, "Per-layer SQNR"))
    assert "0 CONV_2D" in bars and "FULLY_CONNECTED" in bars and 'id="worst-layer"' in dom
    assert "float (Keras)" in _texts(_svg(dom, "Float vs int8 accuracy"))
