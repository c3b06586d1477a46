"""`tinyflow retrain` without TensorFlow: the recipe, the versioned union, the gates and the CLI boundary."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from tinyflow.cli.main import cli
from tinyflow.data import create_store, open_store
from tinyflow.errors import DataError
from tinyflow.workflows import retrain_gates
from tinyflow.workflows.retrain import (
    Recipe,
    build_union,
    read_recipe,
    recipe_path,
    record_step,
    record_training,
    write_recipe,
)
from tinyflow.workflows.retrain_report import RetrainReport, render_retrain


def _store(root, samples):
    with create_store(root) as store:
        for i, (label, frames, split) in enumerate(samples):
            data = (np.arange(frames * 2).reshape(frames, 2) + 7 * i + 100 * ord(label[0])).astype(np.int16)
            store.add_sample(data, label, sensor="imu", sample_rate=50, split=split, group=f"g{i}")
    return open_store(root)


def test_a_recipe_round_trips_and_its_relative_dataset_is_found_beside_it(tmp_path):
    (tmp_path / "data").mkdir()
    model = tmp_path / "m.keras"
    recipe = Recipe("data", {"epochs": 3, "lr": 0.01}, {"ratio": 0.5}, {"calibration": 50}, "nano33ble", "aot")
    assert write_recipe(model, recipe) == recipe_path(model)
    got = read_recipe(recipe_path(model))
    assert got.dataset == str(tmp_path / "data") and got.train == {"epochs": 3, "lr": 0.01}
    assert (got.prune, got.quantize, got.board, got.runtime) == (
        {"ratio": 0.5},
        {"calibration": 50},
        "nano33ble",
        "aot",
    )


def test_train_prune_and_quantize_carry_the_recipe_from_model_to_model(tmp_path):
    (tmp_path / "store").mkdir()
    keras, pruned, int8 = tmp_path / "m.keras", tmp_path / "p.keras", tmp_path / "p.tflite"
    record_training(keras, str(tmp_path / "store"), {"epochs": 5, "frontend": None, "lr": 0.01})
    record_step(keras, pruned, "prune", {"ratio": 0.5, "sparsity": 0.0, "epochs": 2})
    record_step(pruned, int8, "quantize", {"calibration": 100, "seed": 3})
    got = read_recipe(recipe_path(int8))
    assert got.dataset == str((tmp_path / "store").resolve()) and got.train == {"epochs": 5, "lr": 0.01}
    assert got.prune == {"ratio": 0.5, "sparsity": 0.0, "epochs": 2} and got.quantize == {"calibration": 100, "seed": 3}
    # A model made from one without a recipe gets none, and loses a stale one left by an earlier run.
    (tmp_path / "other.keras").write_bytes(b"")
    assert record_step(tmp_path / "other.keras", int8, "quantize", {}) is None and not recipe_path(int8).exists()


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps({"format": "other", "dataset": "x"}),
        json.dumps({"format": "tinyflow-recipe/1", "dataset": "x", "train": {"epochs": [1]}}),
        json.dumps({"format": "tinyflow-recipe/1", "dataset": "x", "train": {"lr": float("nan")}}),
        json.dumps({"format": "tinyflow-recipe/1", "dataset": "x", "runtime": "tvm"}),
    ],
)
def test_a_bad_recipe_is_one_data_error(tmp_path, body):
    path = tmp_path / "r.json"
    path.write_text(body)
    with pytest.raises(DataError, match="recipe|runtime|not a number"):
        read_recipe(path)


def test_the_union_keeps_labels_and_splits_and_cuts_samples_to_one_length(tmp_path):
    base = _store(tmp_path / "base", [("a", 10, "train"), ("b", 10, "test")])
    new = _store(tmp_path / "new", [("b", 8, "train")])
    union = build_union(base, new, tmp_path / "union")
    assert sorted((e.label, e.split) for e in union.entries) == [("a", "train"), ("b", "test"), ("b", "train")]
    assert {union.read(e).data.shape for e in union.entries} == {(8, 2)}
    assert union.version not in (base.version, new.version)
    again = build_union(base, new, tmp_path / "union")  # a second round into the same folder: same data
    assert again.version == union.version and len(again.entries) == 3


def test_the_union_refuses_unlabelled_windows_and_unknown_classes(tmp_path):
    base = _store(tmp_path / "base", [("a", 10, "train")])
    with pytest.raises(DataError, match="unlabelled"):
        build_union(base, _store(tmp_path / "u", [("unlabelled", 8, "train")]), tmp_path / "x")
    with pytest.raises(DataError, match="not trained on: zebra"):
        build_union(base, _store(tmp_path / "z", [("zebra", 8, "train")]), tmp_path / "y")


def _fake_gates(monkeypatch, golden_after: float, p50_after: float = 40.0, fits: bool = True):
    def fake_eval(model, data, target, split, class_names):
        after = "cand" in str(model)
        accuracy = golden_after if after and split == "test" else 1.0
        return {"accuracy": accuracy, "samples": 40, "exact_match_rate": 1.0, "p50_us": p50_after if after else 40.0}

    monkeypatch.setattr(retrain_gates, "_eval", fake_eval)
    verdict = "fits" if fits else "does not fit"
    monkeypatch.setattr(retrain_gates, "_fit", lambda m, b, r: (fits, verdict))


def _gates(**kw):
    options = {"golden": "g", "new": "n", "target": "sim://host", "board": "nano33ble", "max_drop": 0.01}
    return retrain_gates.run_gates("dep.tflite", "cand.tflite", budget_ms=None, **{**options, **kw})


@pytest.mark.parametrize(
    "golden, p50, fits, failed",
    [
        (0.995, 40.0, True, []),  # half a point lower: within --max-drop 0.01
        (0.975, 40.0, True, ["golden"]),
        (1.0, 61.0, True, ["latency"]),  # default budget 1.5 x the deployed 40 us
        (1.0, 40.0, False, ["fits"]),
    ],
)
def test_each_gate_fails_on_its_own_measure(monkeypatch, golden, p50, fits, failed):
    _fake_gates(monkeypatch, golden, p50, fits)
    gates, before, after = _gates()
    assert [g["name"] for g in gates if not g["passed"]] == failed
    assert before["golden"]["accuracy"] == 1.0 and after["golden"]["accuracy"] == golden


def _report(failed: list[str]) -> RetrainReport:
    gates = [
        {"name": n, "passed": n not in failed, "measured": 0, "limit": 0, "detail": f"{n} <detail>"}
        for n in ("golden", "agreement", "latency", "fits")
    ]
    figures = {"golden": {"accuracy": 1.0, "samples": 40}, "new": {"accuracy": 0.5, "samples": 9}}
    data = {"base": {"path": "b", "version": "ab" * 32, "samples": 80}, "union": {"path": "u", "version": "c" * 64}}
    data["union"]["samples"] = 89
    return RetrainReport("m.keras", "sim://host", "nano33ble", data, gates=gates, before=figures, after=figures)


def test_the_page_names_the_verdict_and_escapes_what_it_quotes():
    html = render_retrain(_report(["latency"]))
    assert 'class="banner fail"' in html and "REJECTED: latency" in html and "&lt;detail&gt;" in html
    assert "<script" not in html and "abababababababab" in html


def _cli(monkeypatch, tmp_path, failed):
    model = tmp_path / "m.keras"
    model.write_bytes(b"k")
    model.with_suffix(".tflite").write_bytes(b"t")
    (tmp_path / "new").mkdir()
    report = _report(failed)
    report.paths = {"html": str(tmp_path / "out" / "retrain.html")}
    report.candidate = str(tmp_path / "out" / "model.tflite")
    monkeypatch.setattr("tinyflow.workflows.retrain.retrain", lambda config: report)
    profiled = []
    monkeypatch.setattr("tinyflow.monitor.reference.write_calibration_reference", lambda *args: profiled.append(args))
    return profiled, CliRunner().invoke(
        cli, ["retrain", str(model), "-d", str(tmp_path / "new"), "-o", str(tmp_path / "out")]
    )


def test_a_rejected_candidate_exits_1_with_one_line_naming_the_gate(monkeypatch, tmp_path):
    profiled, result = _cli(monkeypatch, tmp_path, ["golden", "latency"])
    assert result.exit_code == 1 and not profiled  # nothing written for a model that is not deployed
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert errors == [
        f"Error: Candidate rejected by the golden and latency gates: golden <detail>. "
        f"The deployed model stays; see {tmp_path / 'out' / 'retrain.html'}."
    ]


def test_an_accepted_candidate_exits_0(monkeypatch, tmp_path):
    profiled, result = _cli(monkeypatch, tmp_path, [])
    assert result.exit_code == 0, result.output
    # The new model's monitor reference, from the union it was calibrated on (as quantize writes one).
    assert profiled == [(str(tmp_path / "out" / "model.tflite"), "u", 200, 0)]
    assert "accepted" in result.output and "Error" not in result.output
