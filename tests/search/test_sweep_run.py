"""The sweep's driver with a stand-in trial (seconds, no TensorFlow): rounds, constraint, failures, resume,
the CLI and its MLflow logging. The real trials run in test_sweep_cluster.py."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tinyflow.cli.main import cli
from tinyflow.search import SweepConfig, sweep
from tinyflow.search import executor as executor_module
from tinyflow.search.config import Space
from tinyflow.search.pareto import dominates

CONFIG = SweepConfig(
    trials=10,
    population=4,
    seed=3,
    objectives=("accuracy", "ram", "fit"),
    space=Space(width=(0.25, 0.5, 1.0, 2.0), prune=(0.0, 0.5), resolution=(8, 4)),
)
TOML = """
[sweep]
trials = 10
population = 4
seed = 3
objectives = ["accuracy", "ram", "fit"]
[space]
width = [0.25, 0.5, 1.0, 2.0]
prune = [0.0, 0.5]
resolution = [8, 4]
"""


def fake_trial(params, settings):
    """Bigger is more accurate and costs more RAM; width 2 at resolution 8 unpruned does not fit; width 0.25
    pruned at resolution 4 fails (as a model too small to convert would)."""
    w, p, r = params["width"], params["prune"], params["resolution"]
    if w == 0.25 and p == 0.5 and r == 4:
        return {"params": params, "error": "ModelError: too small"}
    size = w * (1 - p) * r * r
    metrics = {"accuracy": round(1 - 1 / (1 + size), 6), "ram": int(1000 * size), "fits": size < 100}
    return {"params": params, "metrics": metrics, "model": b"TFL3" + bytes(8)}


@pytest.fixture
def fake(monkeypatch):
    calls = []

    def counted(params, settings):
        calls.append(params)
        return fake_trial(params, settings)

    monkeypatch.setattr(executor_module, "run_trial", counted)
    return calls


def _doc(out):
    return json.loads((out / "pareto.json").read_text())


def test_front_is_the_feasible_non_dominated_set_and_failures_are_counted(fake, tmp_path):
    report = sweep(CONFIG, tmp_path, serial=True)
    doc = _doc(tmp_path)
    assert report.completed + report.failed == 10 == len(doc["trials"]) + doc["failed"]
    assert len(fake) == len({json.dumps(p, sort_keys=True) for p in fake})  # each distinct point trained once
    feasible = [t for t in doc["trials"] if t["feasible"]]
    values = {t["number"]: [t["metrics"]["accuracy"], t["metrics"]["ram"]] for t in feasible}
    on_front = {t["number"] for t in doc["front"]}
    assert on_front and on_front <= set(values)
    for n, v in values.items():
        dominated = any(dominates(u, v, ["maximize", "minimize"]) for m, u in values.items() if m != n)
        assert (n in on_front) == (not dominated)
    assert (tmp_path / "pareto.html").read_text().count("<svg") == 1
    assert all((tmp_path / t["model"]).read_bytes().startswith(b"TFL3") for t in doc["front"])


def test_same_seed_same_sweep_and_another_seed_another(fake, tmp_path):
    sweep(CONFIG, tmp_path / "a", serial=True)
    sweep(CONFIG, tmp_path / "b", serial=True)
    from dataclasses import replace

    sweep(replace(CONFIG, seed=4), tmp_path / "c", serial=True)
    a, b, c = (_doc(tmp_path / x) for x in "abc")
    assert a["trials"] == b["trials"] and a["front"] == b["front"]
    assert [t["params"] for t in a["trials"]] != [t["params"] for t in c["trials"]]


def test_resume_after_ctrl_c_in_a_trial_equals_the_uninterrupted_sweep(fake, tmp_path, monkeypatch):
    sweep(CONFIG, tmp_path / "whole", serial=True)
    calls = []

    def interrupted(params, settings):
        calls.append(params)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return fake_trial(params, settings)

    monkeypatch.setattr(executor_module, "run_trial", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sweep(CONFIG, tmp_path / "cut", serial=True)
    assert not (tmp_path / "cut" / "pareto.json").exists()
    monkeypatch.setattr(executor_module, "run_trial", fake_trial)
    report = sweep(CONFIG, tmp_path / "cut", serial=True)
    assert report.reused >= 2  # the two trials trained before Ctrl-C are read back, not trained again
    whole, cut = _doc(tmp_path / "whole"), _doc(tmp_path / "cut")
    assert cut["trials"] == whole["trials"] and cut["front"] == whole["front"]
    again = sweep(CONFIG, tmp_path / "cut", serial=True)  # a finished sweep: nothing more to run
    assert again.resumed == 10 and _doc(tmp_path / "cut")["front"] == whole["front"]


def test_cli_sweep_prints_the_front_and_logs_every_trial_in_mlflow(fake, tmp_path):
    pytest.importorskip("mlflow")
    config = tmp_path / "sweep.toml"
    config.write_text(TOML)
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    res = CliRunner().invoke(
        cli,
        ["--track", uri, "sweep", str(config), "-o", str(tmp_path / "out"), "--serial", "--json"],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["completed"] + report["failed"] == 10 and report["front"] == _doc(tmp_path / "out")["front"]
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("tinyflow").experiment_id], max_results=100)
    assert sorted(int(r.data.tags["tinyflow.trial"]) for r in runs) == list(range(10))
    failed = [r for r in runs if r.data.tags["tinyflow.trial_state"] == "failed"]
    assert len(failed) == report["failed"]
    first = report["front"][0]
    run = next(r for r in runs if r.data.tags["tinyflow.trial"] == str(first["number"]))
    assert run.data.metrics["ram"] == first["metrics"]["ram"] and run.data.params["width"] == str(
        first["params"]["width"]
    )


def test_a_dead_or_malformed_ray_address_fails_at_once_with_one_line(tmp_path):
    import socket
    import time

    from tinyflow.errors import TinyflowError, UsageError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    start = time.monotonic()
    with pytest.raises(TinyflowError, match=f"Nothing answers at the Ray address 127.0.0.1:{port}") as err:
        sweep(CONFIG, tmp_path / "a", ray_address=f"127.0.0.1:{port}")
    assert time.monotonic() - start < 15 and "ray start --head" in err.value.hint
    with pytest.raises(UsageError, match="is not HOST:PORT"):
        sweep(CONFIG, tmp_path / "b", ray_address="headnode")
