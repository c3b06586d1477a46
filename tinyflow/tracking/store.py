"""MLflow behind one door: connect to a tracking store, log a RunRecord, find a run's parent.

The only module of tinyflow that imports mlflow, inside functions: `tinyflow --help` and every
verb run without --track never load it (a test checks this). The tracking server is untrusted
and may be down: every request has a deadline, and a failure is one TinyflowError that says the
verb's own outputs were written.
"""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from tinyflow.errors import DataError, TinyflowError, UsageError
from tinyflow.report import to_json
from tinyflow.tracking.record import RunRecord, companions

ENV = "TINYFLOW_TRACKING_URI"
LOCAL_URI = "sqlite:///mlruns.db"  # a bare --track: a SQLite store in the working folder
EXPERIMENT = "tinyflow"
CONNECT_TIMEOUT = 10.0  # seconds for the first answer of a tracking server
REQUEST_TIMEOUT = "30"  # seconds per MLflow HTTP request (artifacts included)
MAX_ARTIFACT_BYTES = 200 * 2**20  # a report folder's file or a model larger than this is not uploaded
INSTALL_HINT = 'Install the tracking extra: pip install "tinyflow[tracking]" (or pip install mlflow), or drop --track.'
KEPT = "The command's own outputs were written."
URI_HINT = "Give an http(s)://host:port or sqlite:///FILE URI (--track / $TINYFLOW_TRACKING_URI)."


def open_client(uri: str, must_exist: bool = False):
    """An MlflowClient on `uri` (tracking and model registry), after checking a server answers.

    Args:
        must_exist: refuse a sqlite:/// store whose file does not exist (verbs that only read:
            MLflow would create an empty database, a file the user did not ask for).
    Raises:
        UsageError: mlflow is not installed, or a URI with control characters or spaces.
        DataError: must_exist and there is no store file.
        TinyflowError: the tracking server does not answer within CONNECT_TIMEOUT seconds.
    """
    if not uri or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in uri):
        raise UsageError(f"Tracking URI {uri[:100]!r} is empty or has spaces or control characters", URI_HINT)
    if must_exist and uri.startswith("sqlite:///") and not os.path.isfile(uri[len("sqlite:///") :]):
        raise DataError(
            f"There is no tracking store at {uri[len('sqlite:///') :][:200]}",
            "Log a run first (tinyflow --track ...), or give the store's URI with --track.",
        )
    require_mlflow()
    import logging

    from mlflow.tracking import MlflowClient

    # MLflow and alembic log the creation of a new store's tables at INFO: not the user's business.
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # MLflow retries a refused request for minutes by default; one bounded try is enough here.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", REQUEST_TIMEOUT)
    # Its download progress bars would interleave with tinyflow's own on stderr (retrain --run).
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    if uri.startswith(("http://", "https://")):
        check_server(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def require_mlflow() -> None:
    """Raise UsageError (how to install the extra) when mlflow cannot be imported."""
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise UsageError("Tracking needs MLflow, which is not installed", INSTALL_HINT) from None


def check_server(uri: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Raise TinyflowError unless the MLflow server at `uri` answers /health within `timeout` s."""
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout) as reply:
            reply.read(64)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise TinyflowError(
            f"MLflow tracking server {uri} did not answer within {timeout:g} s ({reason})",
            f"Start the server or fix --track / ${ENV}, then run the command again.",
        ) from None


@contextmanager
def guarded(uri: str, what: str):
    """Turn what MLflow and its HTTP stack raise inside the block into one TinyflowError."""
    require_mlflow()
    from http.client import HTTPException

    from mlflow.exceptions import MlflowException
    from requests import RequestException  # MLflow's HTTP client
    from sqlalchemy.exc import SQLAlchemyError  # a sqlite:/// store that is not an MLflow database

    try:
        yield
    except (MlflowException, RequestException, SQLAlchemyError, HTTPException, OSError) as exc:
        raise TinyflowError(
            f"MLflow at {uri} failed to {what} ({type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0][:200]})",
            f"Check the tracking store (--track / ${ENV}) and run the command again.",
        ) from None


def experiment_id(client) -> str:
    """The id of the `tinyflow` experiment, created on first use.

    A SQLite store keeps its artifacts in `mlartifacts/` beside its file (what `mlflow server`
    does), not in MLflow's default `./mlruns` of whatever folder the command ran in."""
    found = client.get_experiment_by_name(EXPERIMENT)
    if found:
        return found.experiment_id
    return client.create_experiment(EXPERIMENT, artifact_location=local_artifact_root(str(client.tracking_uri)))


def local_artifact_root(uri: str) -> str | None:
    """file:// URI of the artifacts folder beside a sqlite:///FILE store; None for a server."""
    if not uri.startswith("sqlite:///"):
        return None
    return (Path(uri[len("sqlite:///") :]).resolve().parent / "mlartifacts").as_uri()


def find_parent(client, experiment: str, record: RunRecord) -> str | None:
    """The latest earlier run whose output model is this run's input model (same SHA-256)."""
    sha = record.tags.get("tinyflow.input_sha256")
    if not sha:
        return None
    runs = client.search_runs(
        [experiment],
        filter_string=f"tags.`tinyflow.output_sha256` = '{sha}'",  # sha is hex: nothing to escape
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0].info.run_id if runs else None


def log_record(client, record: RunRecord, fit_tags: dict[str, str] | None = None) -> str:
    """Log `record` as one finished run (lineage, params, metrics, dataset, artifacts); its id.

    fit_tags: board-fit verdicts, set on the model version registered for an int8 model.
    """
    experiment = experiment_id(client)
    tags = dict(record.tags)
    parent = find_parent(client, experiment, record)
    if parent:
        tags.update({"mlflow.parentRunId": parent, "tinyflow.parent_run": parent})
    run_id = client.create_run(experiment, run_name=record.name, tags=tags).info.run_id
    try:
        _log_values(client, run_id, record)
        _log_artifacts(client, run_id, record)
        if record.register:
            register_model(client, run_id, record, fit_tags or {})
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED")
    return run_id


def _log_values(client, run_id: str, record: RunRecord) -> None:
    from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param

    now = int(time.time() * 1000)
    metrics = [Metric(k, v, now, 0) for k, v in record.metrics.items()]
    params = [Param(k, v) for k, v in record.params.items()]
    for start in range(0, max(len(metrics), len(params)), 100):  # MLflow's batch limit: 100 params
        client.log_batch(run_id, metrics=metrics[start : start + 100], params=params[start : start + 100])
    ds = record.dataset
    if ds is not None:
        # MLflow keeps a 36-character digest; the full version is the tinyflow.dataset_version tag.
        source = to_json({"kind": ds.kind, "source": ds.source, "version": ds.version}, indent=None)
        entity = Dataset(name=ds.name, digest=ds.version[:32], source_type="tinyflow", source=source)
        context = "training" if record.verb in ("train", "prune", "quantize") else "evaluation"
        client.log_inputs(run_id, datasets=[DatasetInput(entity, [InputTag("mlflow.data.context", context)])])


def _log_artifacts(client, run_id: str, record: RunRecord) -> None:
    client.log_text(run_id, to_json(record.report) + "\n", "report.json")
    if isinstance(record.report.get("memory"), dict):  # the compiler's memory plan
        client.log_text(run_id, to_json(record.report["memory"]) + "\n", "memory_map.json")
    if record.output_model is not None and _uploadable(record.output_model):
        # The companions go in the same folder: a registered version's source is that folder.
        for path in [record.output_model, *companions(record.output_model)]:
            if _uploadable(path):
                client.log_artifact(run_id, str(path), "model")
    for folder, where in record.artifact_dirs:
        # The top level only: an eval's report.json/html, a compiled model's .c (not a project tree).
        for path in sorted(folder.glob("*")) if folder.is_dir() else ():
            if _uploadable(path):
                client.log_artifact(run_id, str(path), where)


def _uploadable(path: Path) -> bool:
    return path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_ARTIFACT_BYTES


def register_model(client, run_id: str, record: RunRecord, fit_tags: dict[str, str]) -> str:
    """Register the run's int8 model as a new version of the model named after its file; its version."""
    from mlflow.exceptions import MlflowException

    name = record.output_model.stem
    try:
        client.create_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    source = f"{client.get_run(run_id).info.artifact_uri}/model"
    tags = {**fit_tags, "tinyflow.sha256": record.tags.get("tinyflow.output_sha256", "")}
    return client.create_model_version(name, source, run_id=run_id, tags=tags).version
