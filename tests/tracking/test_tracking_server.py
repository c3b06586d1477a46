"""The train -> prune -> quantize -> eval chain logged to a real `mlflow server` (started by the
test, SQLite backend) and read back through the MLflow client: runs, metrics, artifacts, lineage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tracking_server import mlflow_server  # noqa: F401  (the fixture)

from tinyflow.cli.main import cli

pytestmark = [pytest.mark.tf, pytest.mark.slow]


def _run(*args):
    r = CliRunner().invoke(cli, list(args))
    assert r.exit_code == 0, r.output
    assert "tracked: run" in r.stderr
    return r


def test_chain_is_logged_with_metrics_artifacts_and_lineage(tf, mlflow_server, tmp_path, monkeypatch):  # noqa: F811
    from mlflow.tracking import MlflowClient

    monkeypatch.chdir(tmp_path)
    track = ["--track", mlflow_server]
    _run(*track, "train", "-d", "digits", "-m", "mlp", "--epochs", "2", "-o", "m.keras", "--seed", "3")
    _run(*track, "prune", "m.keras", "-d", "digits", "--ratio", "0.5", "--epochs", "1", "-o", "p.keras", "--seed", "3")
    _run(*track, "quantize", "p.keras", "-d", "digits", "--calibration", "50", "-o", "p_int8.tflite", "--seed", "3")
    _run(*track, "eval", "p_int8.tflite", "-d", "digits", "--seed", "3", "--limit", "40", "--report", "rep")

    client = MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)
    exp = client.get_experiment_by_name("tinyflow")
    runs = client.search_runs([exp.experiment_id], order_by=["attributes.start_time ASC"])
    assert [r.data.tags["tinyflow.verb"] for r in runs] == ["train", "prune", "quantize", "eval"]
    trained, pruned, quantized, evaluated = runs
    assert all(r.info.status == "FINISHED" for r in runs)

    # lineage: each run points at the run that wrote its input model
    assert "mlflow.parentRunId" not in trained.data.tags
    assert pruned.data.tags["mlflow.parentRunId"] == trained.info.run_id
    assert quantized.data.tags["mlflow.parentRunId"] == pruned.info.run_id
    assert evaluated.data.tags["mlflow.parentRunId"] == quantized.info.run_id

    # metrics, as each verb's report has them
    assert 0 < trained.data.metrics["float_accuracy"] <= 1 and trained.data.params["epochs"] == "2"
    q = quantized.data.metrics
    assert q["int8_drop"] == pytest.approx(q["float_accuracy"] - q["int8_accuracy"])
    assert q["model_bytes"] == Path("p_int8.tflite").stat().st_size
    e = evaluated.data.metrics
    assert 0 <= e["int8_accuracy"] <= 1 and e["agreement"] == 1.0 and e["latency_ms"] > 0
    assert pruned.data.metrics["arena"] > 0

    # the dataset version as an input: a built-in is its name and seed
    for r in (trained, pruned, quantized, evaluated):
        (inp,) = r.inputs.dataset_inputs
        assert inp.dataset.name == "digits" and inp.dataset.digest == "digits@seed3"

    # artifacts: the models, the reports (read back from the server's artifact store)
    names = lambda run, path=None: {a.path for a in client.list_artifacts(run.info.run_id, path)}  # noqa: E731
    assert "model/m.keras" in names(trained, "model") and "model/p_int8.tflite" in names(quantized, "model")
    assert {"report/report.json", "report/report.html"} <= names(evaluated, "report")
    got = client.download_artifacts(quantized.info.run_id, "model/p_int8.tflite", str(tmp_path / "dl"))
    assert Path(got).read_bytes() == Path("p_int8.tflite").read_bytes()
    report = json.loads(
        Path(client.download_artifacts(evaluated.info.run_id, "report.json", str(tmp_path))).read_text()
    )
    assert report["samples"] == 40

    # the registered int8 model carries the board-fit verdicts
    (version,) = client.search_model_versions("name = 'p_int8'")
    assert version.run_id == quantized.info.run_id
    assert {k for k in version.tags if k.startswith("fit.") and "." not in k[4:]} >= {"fit.nano33ble"}
