"""An 8-trial sweep of a tiny space: serial (interrupted and resumed), and on a two-node Ray cluster on
localhost whose worker is killed mid-sweep. Both must give the same trials and the same front, and
the Ray sweep is logged trial by trial in MLflow (a local SQLite store).

Trials are kept tiny (an MLP on 8x8 digits, one epoch, 60 evaluation samples): seconds each.
"""

from __future__ import annotations

import json

import pytest

from tinyflow import events
from tinyflow.search import SweepConfig, sweep
from tinyflow.search.config import Space

pytestmark = [pytest.mark.slow, pytest.mark.tf]

TRIALS = 8  # two generations of 4: NSGA-II breeds the second from the first
CONFIG = SweepConfig(
    dataset="digits",
    trials=TRIALS,
    population=4,
    seed=0,
    epochs=1,
    finetune_epochs=1,
    calibration=50,
    eval_samples=60,
    objectives=("accuracy", "latency", "ram", "flash", "fit"),
    space=Space(model=("mlp",), width=(0.25, 0.5), resolution=(8, 4), prune=(0.0, 0.5), board=("nano33ble",)),
)


def _doc(out):
    doc = json.loads((out / "pareto.json").read_text())
    return {k: doc[k] for k in ("front", "trials", "completed", "failed")}


@pytest.fixture(scope="module")
def serial(tmp_path_factory, tf):
    """The serial reference, interrupted by Ctrl-C in the middle of its fourth trial and resumed.

    The Ray sweep below runs uninterrupted: its equality with this one shows that resuming and
    running on two nodes both give what one uninterrupted serial run gives (one serial run, not two:
    the machine is small).
    """
    from _pytest.monkeypatch import MonkeyPatch

    from tinyflow.search import executor

    calls, real = [], executor.run_trial

    def interrupted(params, settings):
        calls.append(params)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(params, settings)

    out = tmp_path_factory.mktemp("serial")
    with MonkeyPatch.context() as mp:
        mp.setattr(executor, "run_trial", interrupted)
        with pytest.raises(KeyboardInterrupt):
            sweep(CONFIG, out, serial=True)
    assert (out / "study.journal").is_file() and not (out / "pareto.json").exists()
    interrupted_at = len(calls)
    with MonkeyPatch.context() as mp:
        mp.setattr(executor, "run_trial", lambda params, settings: (calls.append(params), real(params, settings))[1])
        report = sweep(CONFIG, out, serial=True)
    assert report.completed == TRIALS and report.failed == 0, report
    return {**_doc(out), "reused": report.reused, "calls": calls, "interrupted_at": interrupted_at}


def test_serial_front_is_non_dominated_and_the_space_was_explored(serial):
    from tinyflow.search.pareto import dominates

    directions = CONFIG.directions
    objectives = CONFIG.metric_objectives
    values = {t["number"]: [t["metrics"][o] for o in objectives] for t in serial["trials"]}
    on_front = [t["number"] for t in serial["front"]]
    assert on_front
    for n in on_front:
        assert not any(dominates(v, values[n], directions) for m, v in values.items() if m != n)
    for n in set(values) - set(on_front):  # every other (feasible) trial is dominated by a front trial
        assert any(dominates(values[m], values[n], directions) for m in on_front)
    assert len({json.dumps(t["params"], sort_keys=True) for t in serial["trials"]}) >= 3
    assert all(0 <= t["metrics"]["accuracy"] <= 1 and t["metrics"]["ram"] > 0 for t in serial["trials"])


def test_the_resumed_sweep_kept_the_trials_finished_before_the_interruption(serial):
    calls, cut = serial["calls"], serial["interrupted_at"]
    key = lambda p: json.dumps(p, sort_keys=True)  # noqa: E731
    finished_before = {key(p) for p in calls[: cut - 1]}  # the last call was the one Ctrl-C cut short
    assert cut == 4 and len(finished_before) == 3
    again = [key(p) for p in calls[cut:]]
    assert not finished_before & set(again)  # read back, not trained again
    assert len(again) == len(set(again))  # each parameter set trained once
    assert {key(t["params"]) for t in serial["trials"]} == finished_before | set(again)


def test_a_different_config_is_refused_in_the_same_folder(tmp_path):
    from dataclasses import replace

    from tinyflow.errors import UsageError
    from tinyflow.search.run import open_study

    open_study(CONFIG, tmp_path)
    with pytest.raises(UsageError, match="another configuration"):
        open_study(replace(CONFIG, seed=1), tmp_path)


def test_two_node_ray_sweep_survives_a_killed_worker_equals_serial_and_is_tracked(serial, tmp_path):
    from ray_cluster import Cluster

    pytest.importorskip("ray")
    pytest.importorskip("mlflow")
    cluster = Cluster(tmp_path)
    killed = []

    def kill_on_first_result(event):
        # The first trial of the first round is back while the others run on both nodes.
        if isinstance(event, events.Progress) and event.stage == "round" and not killed:
            cluster.kill_worker()
            killed.append(event.done)

    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    try:
        with events.subscribe(kill_on_first_result):
            report = sweep(CONFIG, tmp_path / "sweep", ray_address=cluster.address, tracking_uri=uri)
    finally:
        cluster.stop()
    assert "2 node(s), 2 CPU(s)" in report.executor and killed
    assert report.completed == TRIALS and report.failed == 0, report
    assert _doc(tmp_path / "sweep") == {k: serial[k] for k in ("front", "trials", "completed", "failed")}
    _assert_tracked(uri, serial)


def _assert_tracked(uri: str, serial: dict) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("tinyflow")
    runs = client.search_runs([experiment.experiment_id], "tags.`tinyflow.verb` = 'sweep'", max_results=100)
    by_trial = {int(r.data.tags["tinyflow.trial"]): r for r in runs}
    assert sorted(by_trial) == list(range(TRIALS)) and len(runs) == TRIALS
    for t in serial["front"]:
        run = by_trial[t["number"]]
        assert run.data.metrics["accuracy"] == pytest.approx(t["metrics"]["accuracy"])
        assert run.data.metrics["ram"] == t["metrics"]["ram"]
        assert run.data.params["width"] == str(t["params"]["width"])
