"""`tinyflow retrain --run RUN`: the deployed model and its companions come back from MLflow.

A real `train -> quantize` chain logged with `--track sqlite:///...` (a tiny IMU store, two epochs),
read through the MLflow client; the retraining itself is stubbed where it would start (the files
route is tests/workflows/test_retrain_loop.py): what is checked is what `--run` hands it.
"""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

from tinyflow.cli.main import cli
from tinyflow.data import create_store
from tinyflow.errors import DataError
from tinyflow.tracking import fetch as retrain_source
from tinyflow.tracking.record import companions
from tinyflow.workflows.retrain_report import RetrainReport

pytest.importorskip("mlflow")


def with_chain(test):
    """Tests on the logged chain: TensorFlow trains it (the fixture takes ~40 s, once)."""
    return pytest.mark.tf(pytest.mark.slow(test))


def _store(root: Path, n: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    with create_store(root) as store:
        for i in range(n):
            label = "ab"[i % 2]
            data = rng.normal(300 if label == "a" else -300, 50, (16, 3)).astype(np.int16)
            store.add_sample(data, label, sensor="imu", sample_rate=50, group=f"g{seed}-{i}")
    return root


def _cli(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """m.keras (train) -> m_int8.tflite (quantize), both runs logged to a SQLite store."""
    w = tmp_path_factory.mktemp("retrain-run")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(w)  # MLflow puts a SQLite store's artifacts in ./mlruns
        mp.delenv("TINYFLOW_TRACKING_URI", raising=False)
        uri = f"sqlite:///{w / 'store.db'}"
        _store(w / "base", 40, 0)
        train = ["train", "-d", w / "base", "--frontend", "imu", "-m", "mlp", "--width", 0.25, "--epochs", 2]
        assert _cli("--track", uri, *train, "-o", w / "m.keras").exit_code == 0
        quantize = ["quantize", w / "m.keras", "-d", w / "base", "-o", w / "m_int8.tflite", "--calibration", 20]
        assert _cli("--track", uri, *quantize).exit_code == 0
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        runs = client.search_runs([client.get_experiment_by_name("tinyflow").experiment_id])
        ids = {r.data.tags["tinyflow.verb"]: r.info.run_id for r in runs}
        _store(w / "new", 6, 1)
        yield SimpleNamespace(w=w, uri=uri, client=client, train=ids["train"], quantize=ids["quantize"])


def _listed(client, run_id):
    return sorted(a.path for a in client.list_artifacts(run_id, "model"))


@with_chain
def test_a_model_is_logged_with_its_sidecar_recipe_and_monitor_profile(chain):
    assert _listed(chain.client, chain.quantize) == [
        "model/m_int8.monitor.json",
        "model/m_int8.tflite",
        "model/m_int8.tflite.frontend.json",
        "model/m_int8.tflite.recipe.json",
    ]
    # A float model has no monitor profile (quantize writes it for the int8 one)
    assert _listed(chain.client, chain.train) == [
        "model/m.keras",
        "model/m.keras.frontend.json",
        "model/m.keras.recipe.json",
    ]
    # The registered version's source is that folder: the companions travel with the version.
    (version,) = chain.client.search_model_versions("name = 'm_int8'")
    assert version.source.endswith("/model") and version.run_id == chain.quantize


def _fake_retrain(monkeypatch):
    """Stub the loop where it starts; returns the configs it was given."""
    seen = []

    def fake(config):
        seen.append(config)
        gate = {"name": "golden", "passed": True, "measured": 1, "limit": 1, "detail": "ok"}
        data = {"union": {"path": "u", "version": "0" * 64, "samples": 1}}
        report = RetrainReport(Path(config.model).name, config.target, "nano33ble", data, gates=[gate])
        report.candidate, report.paths = "cand.tflite", {"html": "x.html"}
        return report

    monkeypatch.setattr("tinyflow.workflows.retrain.retrain", fake)
    monkeypatch.setattr("tinyflow.monitor.reference.write_calibration_reference", lambda *a: None)
    return seen


@with_chain
@pytest.mark.parametrize("ref", ["quantize", "models:/m_int8/1"])
def test_retrain_run_fetches_the_deployed_model_and_goes_on_as_from_files(chain, monkeypatch, ref):
    seen = _fake_retrain(monkeypatch)
    monkeypatch.chdir(chain.w)
    out = chain.w / f"out-{ref.replace('/', '_').replace(':', '')}"
    run = chain.quantize[:8] if ref == "quantize" else ref
    r = _cli("--track", chain.uri, "retrain", "--run", run, "-d", chain.w / "new", "-o", out)
    assert r.exit_code == 0, r.output
    (config,) = seen
    deployed = out / "deployed"
    assert Path(config.model) == deployed / "m_int8.keras" and config.deployed == deployed / "m_int8.tflite"
    for mine, theirs in [("m.keras", "m_int8.keras"), ("m_int8.tflite", "m_int8.tflite"),
                         ("m.keras.frontend.json", "m_int8.keras.frontend.json"),
                         ("m_int8.tflite.recipe.json", "m_int8.tflite.recipe.json"),
                         ("m_int8.monitor.json", "m_int8.monitor.json")]:  # fmt: skip
        assert (deployed / theirs).read_bytes() == (chain.w / mine).read_bytes(), theirs
    assert config.recipe_file == deployed / "m_int8.tflite.recipe.json"
    assert not list(deployed.glob(".fetch-*"))  # the staging folders are gone
    # The retrain run is logged with the deployed model's run as its parent (lineage).
    (logged,) = chain.client.search_runs(
        [chain.client.get_experiment_by_name("tinyflow").experiment_id],
        filter_string=f"params.out_dir = '{out}'",
    )
    assert logged.data.tags["tinyflow.verb"] == "retrain" and logged.data.tags["tinyflow.parent_run"] == chain.quantize


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _error(r) -> str:
    (line,) = [x for x in r.output.splitlines() if x.startswith("Error:")]
    assert "Traceback" not in r.output
    return line


@with_chain
@pytest.mark.parametrize(
    "args, code, says",
    [
        (["--run", "{quantize}"], 2, "needs a tracking store"),  # no --track, no $TINYFLOW_TRACKING_URI
        (["--track", "{uri}", "retrain", "{w}/m.keras", "--run", "{quantize}"], 2, "not both or neither"),
        (["--track", "{uri}", "retrain"], 2, "not both or neither"),
        (["--track", "{uri}", "retrain", "--run", "ffffffff"], 2, "matches no run"),
        (["--track", "{uri}", "retrain", "--run", "models:/nothing/7"], 2, "No registered model version"),
        (["--track", "{uri}", "retrain", "--run", "models:/../1"], 2, "is not models:/NAME/VERSION"),
        (["--track", "{uri}", "retrain", "--run", "{train}"], 1, "has no .tflite model"),
        (["--track", "sqlite:///{w}/none.db", "retrain", "--run", "{quantize}"], 1, "no tracking store"),
        (["--track", "http://127.0.0.1:{port}", "retrain", "--run", "{quantize}"], 1, "did not answer"),
    ],
)
def test_each_way_a_run_cannot_be_used_is_one_line(chain, monkeypatch, args, code, says):
    seen = _fake_retrain(monkeypatch)
    monkeypatch.delenv("TINYFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(chain.w)
    values = {"uri": chain.uri, "w": chain.w, "quantize": chain.quantize, "train": chain.train, "port": _free_port()}
    args = [a.format(**values) for a in args]
    if args[0] == "--run":
        args = ["retrain", *args]
    r = _cli(*args, "-d", chain.w / "new", "-o", chain.w / "err")
    assert r.exit_code == code, r.output
    assert says in _error(r) and not seen


@with_chain
def test_a_run_logged_without_its_recipe_is_refused(chain, monkeypatch):
    from tinyflow.tracking import track

    monkeypatch.chdir(chain.w)
    bare = chain.w / "bare"
    bare.mkdir()
    shutil.copy(chain.w / "m.keras", bare / "f.keras")
    shutil.copy(chain.w / "m_int8.tflite", bare / "q.tflite")  # no recipe, no sidecar beside them
    track(chain.uri, "train", {"out": str(bare / "f.keras")}, {})
    run = track(chain.uri, "quantize", {"model": str(bare / "f.keras"), "out": str(bare / "q.tflite")}, {})
    seen = _fake_retrain(monkeypatch)
    r = _cli("--track", chain.uri, "retrain", "--run", run, "-d", chain.w / "new", "-o", bare / "out")
    assert r.exit_code == 1 and "logged no recipe" in _error(r) and not seen


class _FakeClient:
    """What fetch sees of a hostile store: listed names and sizes of its choosing."""

    def __init__(self, name: str, size: int):
        self.files = [SimpleNamespace(path=f"model/{name}", is_dir=False, file_size=size)]

    def list_artifacts(self, run_id, path):
        return self.files

    def download_artifacts(self, *args):
        raise AssertionError("nothing is downloaded")


@pytest.mark.parametrize("name", ["..tflite", ".hidden.tflite", "a b.tflite", "x\n.tflite"])
def test_a_model_name_that_is_not_a_plain_file_name_is_refused(name):
    with pytest.raises(DataError, match="not a plain file name"):
        retrain_source._model_name(_FakeClient(name, 10), "r1", ".tflite")


def test_an_oversized_artifact_is_refused_before_it_is_downloaded(tmp_path):
    run = SimpleNamespace(info=SimpleNamespace(run_id="r1"), data=SimpleNamespace(tags={}))
    client = _FakeClient("m.tflite", retrain_source.MAX_MODEL_BYTES + 1)
    with pytest.raises(DataError, match="over"):
        retrain_source._download(client, run, "m.tflite", tmp_path / "m.tflite", required=True)
    client = _FakeClient("m.tflite.recipe.json", retrain_source.MAX_COMPANION_BYTES + 1)
    with pytest.raises(DataError, match="over"):
        retrain_source._download(client, run, "m.tflite.recipe.json", tmp_path / "r.json", required=False)
    assert not list(tmp_path.iterdir())


def test_companion_names_agree_with_their_writers(tmp_path):
    from tinyflow.frontends import sidecar_path
    from tinyflow.monitor.reference import reference_path
    from tinyflow.workflows.retrain import recipe_path

    model = tmp_path / "m.tflite"
    written = [sidecar_path(model), recipe_path(model), reference_path(model)]
    for path in written:
        path.write_text(json.dumps({}))
    assert sorted(companions(model)) == sorted(written)
    keras = tmp_path / "m.keras"  # m.monitor.json beside it is the int8 model's, not its own
    assert companions(keras) == []
