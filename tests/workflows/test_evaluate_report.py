"""EvalReport rendering (text, JSON, self-contained HTML) and task metrics from raw outputs."""

import json
import re

import numpy as np
import pytest

from tinyflow import metrics
from tinyflow.workflows.eval_data import EvalData, TensorSpec
from tinyflow.workflows.evaluate import EvalReport, task_metrics

OUT = TensorSpec("out", (1, 3), np.dtype(np.int8), scale=1 / 256, zero_point=-128)


def _report():
    cls = metrics.classification([0, 1, 2, 2, 1], [0, 1, 2, 1, 1], num_classes=3)
    lat = metrics.latency([100.0, 110.0, 120.0, 400.0, 105.0], wall_seconds=0.5)
    counts, edges = metrics.histogram([100.0, 110.0, 120.0, 400.0, 105.0])
    lat.update(histogram={"counts": counts, "edges": edges}, basis="is an ESTIMATE <b>")
    return EvalReport(
        model="m.tflite",
        model_sha256="00" * 32,
        target="sim://tflm",
        dataset="gestures",
        task="classification",
        samples=5,
        metrics=cls,
        agreement={"exact_match_rate": 1.0, "top1_agreement": 1.0, "max_abs_diff": 0, "mismatched": []},
        latency=lat,
        link={"lost": 0, "duplicated": 0, "retries": 2, "resyncs": 1, "resets": 0},
        device={"board_id": "nano33ble", "runtime": "tflm"},
        class_names=["idle", "wave", "<punch>"],
    )


def test_text_report_has_the_lines_that_matter():
    text = str(_report())
    assert "accuracy" in text and "0.8000" in text
    assert re.search(r"samples lost\s+0", text)
    assert re.search(r"retries / resyncs / resets\s+2 / 1 / 0", text)
    assert "latency p50 / p90 / p99" in text and "confusion matrix" in text


def test_write_json_and_self_contained_html(tmp_path):
    json_path, html_path = _report().write(tmp_path)
    data = json.loads(json_path.read_text())
    assert data["metrics"]["confusion"] == [[1, 0, 0], [0, 2, 0], [0, 1, 1]]
    assert data["link"]["lost"] == 0 and "tinyflow_version" in data
    page = html_path.read_text()
    assert page.count("<svg") == 2  # confusion matrix and latency histogram
    assert "&lt;punch&gt;" in page and "<punch>" not in page  # names are escaped
    assert "ESTIMATE &lt;b&gt;" in page
    # self-contained: no scripts, stylesheets, images or fonts from anywhere; matplotlib's SVG
    # refers to its own glyph and clip-path ids (href="#...", url(#...)), inside the page
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)|@import|url\((?!#)|<script|<img""", page)


def _data(task, labels, features=None):
    return EvalData(
        name="t",
        inputs=[[np.zeros((1, 3), np.int8)] for _ in labels],
        task=task,
        labels=np.asarray(labels),
        features=features,
    )


def _q(values, spec=OUT):
    return [[spec.quantize(np.asarray(v, np.float32).reshape(spec.shape))] for v in values]


def test_classification_from_dequantized_argmax():
    outs = _q([[0.9, 0.05, 0.05], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    m = task_metrics(_data("classification", [0, 2, 1]), [0, 1, 2], outs, [OUT], [])
    assert m["accuracy"] == pytest.approx(2 / 3)
    assert m["confusion"] == [[1, 0, 0], [1, 0, 0], [0, 0, 1]]


def test_binary_sigmoid_threshold():
    spec = TensorSpec("p", (1, 1), np.dtype(np.int8), scale=1 / 256, zero_point=-128)
    outs = _q([[0.9], [0.2], [0.51]], spec)
    notes = []
    m = task_metrics(_data("classification", [1, 0, 0]), [0, 1, 2], outs, [spec], notes)
    assert m["accuracy"] == pytest.approx(2 / 3) and "0.5" in notes[0]


def test_regression_on_dequantized_values():
    spec = TensorSpec("y", (1, 1), np.dtype(np.int8), scale=0.01, zero_point=0)
    outs = _q([[0.5], [-0.2]], spec)
    m = task_metrics(_data("regression", [0.4, -0.2]), [0, 1], outs, [spec], [])
    assert m["mae"] == pytest.approx(0.05, abs=1e-6)


def test_anomaly_auc_from_reconstruction_error():
    feats = np.array([[0.1, 0.1, 0.1], [0.5, 0.5, 0.5], [0.2, 0.2, 0.2], [0.9, 0.0, 0.9]], np.float32)
    recon = [[0.1, 0.1, 0.1], [0.5, 0.5, 0.5], [0.2, 0.2, 0.25], [0.1, 0.5, 0.1]]  # the last is anomalous
    spec = TensorSpec("r", (1, 3), np.dtype(np.int8), scale=1 / 128, zero_point=0)
    m = task_metrics(_data("anomaly", [0, 0, 1, 1], feats), [0, 1, 2, 3], _q(recon, spec), [spec], [])
    assert m["auc"] == pytest.approx(1.0)


def test_no_task_metrics_for_random_inputs():
    assert (
        task_metrics(
            EvalData(name="random:2", inputs=[[np.zeros(1)]] * 2), [0, 1], [[np.zeros(3, np.int8)]] * 2, [OUT], []
        )
        == {}
    )


def test_regression_with_the_wrong_number_of_targets_is_a_data_error():
    from tinyflow.errors import DataError

    with pytest.raises(DataError, match="2 regression targets per sample but the model's first output has 3"):
        task_metrics(_data("regression", [[0.1, 0.2]]), [0], _q([[0.1, 0.2, 0.3]]), [OUT], [])


def test_many_classes_do_not_build_a_huge_matrix_or_page(tmp_path):
    from tinyflow.data import Samples

    n = 5000  # a hostile model's 5,000-value output
    spec = TensorSpec("out", (1, n), np.dtype(np.int8), scale=1 / 256, zero_point=-128)
    data = EvalData("d", Samples(3, lambda i: []), task="classification", labels=np.array([0, 1, 4999]))
    outs = [[np.eye(1, n, k, dtype=np.int8).reshape(1, n)] for k in (0, 1, 7)]
    notes = []
    m = task_metrics(data, [0, 1, 2], outs, [spec], notes)
    assert m == {"accuracy": 2 / 3} and "only accuracy is reported" in notes[0]
    cls = metrics.classification(np.arange(100), np.arange(100), num_classes=100)
    page = __import__("tinyflow.workflows.report_html", fromlist=["render"]).render(
        {"metrics": cls, "class_names": [], "model": "m", "target": "t"}
    )
    assert len(page) < 200_000 and "The 100 x 100 matrix is in report.json" in page and "<svg" not in page


def test_report_json_is_strict_json_with_numpy_and_nan(tmp_path):
    rep = _report()
    rep.latency = {**rep.latency, "p50": float("nan"), "worst": np.float32(2.5)}

    def refuse(name):
        raise AssertionError(f"{name} is not JSON")

    data = json.loads(rep.write(tmp_path)[0].read_text(), parse_constant=refuse)
    assert data["latency"]["p50"] is None and data["latency"]["worst"] == 2.5
