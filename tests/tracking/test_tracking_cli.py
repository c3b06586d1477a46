"""`tinyflow --track` on a local SQLite store, `tinyflow runs`, lineage, registry tags and the errors.

No TensorFlow: the models are the third-party int8 ones; the train -> prune -> quantize -> eval chain
against a real MLflow server is tests/tracking/test_tracking_server.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from tracking_server import require_mlflow

from conftest import corpus_path
from tinyflow.cli.main import cli

HELLO = "tflm/hello_world_int8.tflite"


def _run(args):
    return CliRunner().invoke(cli, args)


def _client(uri):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _runs(uri):
    client = _client(uri)
    exp = client.get_experiment_by_name("tinyflow")
    return client, client.search_runs([exp.experiment_id], order_by=["attributes.start_time ASC"])


def _artifacts(client, run_id, path=None):
    return {a.path for a in client.list_artifacts(run_id, path)}


def test_without_track_nothing_of_mlflow_is_imported(tmp_path):
    """Run verbs in a fresh interpreter; the same verb with --track is the control that imports it."""
    model = corpus_path(HELLO)
    probe = textwrap.dedent(f"""
        import os, sys
        from tinyflow.cli.main import cli
        os.chdir({str(tmp_path)!r})
        for args in (["--help"], ["inspect", {str(model)!r}, "--no-arena"], ["compile", {str(model)!r}, "-o", "c",
                     "--no-tflm-arena"], ["--track", "inspect", {str(model)!r}, "--no-arena"]):
            try:
                cli.main(args=args, standalone_mode=False)
            except SystemExit:
                pass
            print(args[0], any(m.split(".")[0] == "mlflow" for m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=600)
    lines = [line for line in out.stdout.splitlines() if line.endswith((" True", " False"))]
    assert lines == ["--help False", "inspect False", "compile False", "--track True"], out.stdout + out.stderr


def test_bare_track_logs_to_a_sqlite_store_in_the_working_folder(tmp_path, monkeypatch):
    require_mlflow()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TINYFLOW_TRACKING_URI", raising=False)
    model = corpus_path(HELLO)
    r = _run(["--track", "compile", str(model), "-o", "out", "--no-tflm-arena"])
    assert r.exit_code == 0, r.output
    assert "tracked: run" in r.stderr and (tmp_path / "mlruns.db").is_file()
    client, runs = _runs(f"sqlite:///{tmp_path / 'mlruns.db'}")
    (run,) = runs
    assert run.data.tags["tinyflow.verb"] == "compile" and run.info.status == "FINISHED"
    assert run.data.params["out_dir"] == "out" and run.data.params["tflm_arena"] == "False"
    report = json.loads(Path(client.download_artifacts(run.info.run_id, "report.json", str(tmp_path))).read_text())
    assert run.data.metrics["ram"] == report["memory"]["activation_bytes"] > 0
    assert {"report.json", "memory_map.json", "output"} <= _artifacts(client, run.info.run_id)
    assert "output/hello_world_int8.c" in _artifacts(client, run.info.run_id, "output")


def test_a_sqlite_store_keeps_its_artifacts_beside_it_not_in_the_working_folder(tmp_path, monkeypatch):
    """MLflow's default artifact root for a SQLite store is ./mlruns of the current folder: a run
    from anywhere would scatter artifacts there. They go to mlartifacts/ beside the store file."""
    require_mlflow()
    work, store = tmp_path / "work", tmp_path / "store"
    work.mkdir()
    store.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("TINYFLOW_TRACKING_URI", raising=False)
    r = _run(["--track", f"sqlite:///{store / 't.db'}", "inspect", str(corpus_path(HELLO)), "--no-arena"])
    assert r.exit_code == 0, r.output
    assert list(work.iterdir()) == []
    (run,) = _runs(f"sqlite:///{store / 't.db'}")[1]
    assert run.info.artifact_uri.startswith((store / "mlartifacts").as_uri())
    assert any((store / "mlartifacts").rglob("report.json"))


def test_the_environment_variable_turns_tracking_on(tmp_path, monkeypatch):
    require_mlflow()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TINYFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'env.db'}")
    r = _run(["inspect", str(corpus_path(HELLO)), "--no-arena"])
    assert r.exit_code == 0, r.output
    assert [run.data.tags["tinyflow.verb"] for run in _runs(f"sqlite:///{tmp_path / 'env.db'}")[1]] == ["inspect"]
    assert not (tmp_path / "mlruns.db").exists()


def test_lineage_registry_fit_tags_and_runs_tables(tmp_path, monkeypatch):
    """A quantize run (logged through the library: making its model needs TensorFlow) registers its
    int8 model with board-fit tags; a later compile of that file points at it; `runs` shows both."""
    require_mlflow()
    from tinyflow.tracking import track

    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    keras, tflite = tmp_path / "m.keras", tmp_path / "m_int8.tflite"
    keras.write_bytes(b"stand-in for the float model")
    shutil.copy(corpus_path(HELLO), tflite)
    report = {
        "float_metrics": {"accuracy": 0.9},
        "tflm_metrics": {"accuracy": 0.85},
        "int8_bytes": tflite.stat().st_size,
    }
    parent = track(uri, "quantize", {"model": str(keras), "data": "sine", "out": str(tflite), "seed": 1}, report)
    r = _run(["--track", uri, "compile", str(tflite), "-o", "c", "--no-tflm-arena"])
    assert r.exit_code == 0, r.output
    client, runs = _runs(uri)
    assert [run.data.tags["tinyflow.verb"] for run in runs] == ["quantize", "compile"]
    quantized, compiled = runs
    assert quantized.info.run_id == parent and compiled.data.tags["mlflow.parentRunId"] == parent
    assert quantized.data.metrics["int8_drop"] == pytest.approx(0.05)
    assert quantized.inputs.dataset_inputs[0].dataset.name == "sine"
    assert quantized.data.tags["tinyflow.dataset_version"] == "sine@seed1"
    assert "model/m_int8.tflite" in _artifacts(client, parent, "model")
    (version,) = client.search_model_versions("name = 'm_int8'")
    assert version.run_id == parent and version.tags["fit.nano33ble"].startswith("fits")
    assert 0 < float(version.tags["fit.nano33ble.ram_used"]) < 1

    r = _run(["--track", uri, "runs", "list"])
    assert r.exit_code == 0, r.output
    assert "2 run(s) in experiment 'tinyflow'" in r.output and compiled.info.run_id[:12] in r.output
    r = _run(["--track", uri, "runs", "compare", parent[:8], compiled.info.run_id, "--json"])
    assert r.exit_code == 0, r.output
    shown = json.loads(r.stdout)["runs"]
    assert [s["verb"] for s in shown] == ["quantize", "compile"] and shown[1]["parent"] == parent
    r = _run(["--track", uri, "runs", "compare", parent[:8]])
    assert "metric int8_drop" in r.output and "param data" in r.output
    assert len(_runs(uri)[1]) == 2  # `runs` itself is not a tracked run
    r = _run(["--track", uri, "runs", "compare", "ffffffff"])
    assert r.exit_code == 2 and r.output.startswith("Error: Run 'ffffffff' matches no run")


def test_an_unreachable_server_is_one_error_line_and_the_outputs_are_kept(tmp_path):
    require_mlflow()
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "c"
    r = _run(
        ["--track", f"http://127.0.0.1:{port}", "compile", str(corpus_path(HELLO)), "-o", str(out), "--no-tflm-arena"]
    )
    assert r.exit_code == 1
    errors = [line for line in r.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "did not answer" in errors[0] and "outputs were written" in errors[0]
    assert "Traceback" not in r.output and (out / "hello_world_int8.c").is_file()


def test_missing_mlflow_says_how_to_install_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # `import mlflow` raises ImportError
    monkeypatch.chdir(tmp_path)
    r = _run(["--track", "inspect", str(corpus_path(HELLO)), "--no-arena"])
    assert r.exit_code == 2
    (error,) = [line for line in r.stderr.splitlines() if line.startswith("Error:")]
    assert "pip install" in error and "tinyflow[tracking]" in error
    r = _run(["runs", "list"])
    assert r.exit_code == 2 and "tinyflow[tracking]" in r.stderr
