"""`tinyflow retrain --run RUN`: bring the deployed model and its companions back from the tracking store.

    keras = fetch_deployed("sqlite:///mlruns.db", "3f2a9c", "retrain/")   # retrain/deployed/m.keras
    retrain(RetrainConfig(str(keras), new_data="labelled/", out_dir="retrain/"))

RUN is the deployed int8 model's run (the quantize run; a prefix of 6+ characters) or a registered
version, models:/NAME/VERSION. Its `model/` artifact folder holds the .tflite and its companions
(recipe, front end sidecar, monitor profile: tinyflow/tracking/store.py logs them with the model);
the float .keras retrain fine-tunes is the output of an ancestor run (tinyflow.parent_run, the
train or prune run), found by the SHA-256 the quantize run recorded as its input. Both land in
`<out>/deployed/` under one stem, as the files route expects them.

The store is untrusted: artifact names are checked, sizes bounded before and after the download,
every file is staged in a temporary folder inside `deployed/` and must hash to what its run
recorded; nothing is written outside the output folder.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from tinyflow.errors import DataError, UsageError
from tinyflow.tracking.record import COMPANION_SUFFIXES as _COMPANIONS  # <model><suffix>, logged with it

FOLDER = "model"  # the run's artifact folder with the model (tracking/store.py)
DEPLOYED = "deployed"  # under the output folder
MAX_MODEL_BYTES = 200 * 2**20  # tracking/store.py uploads no larger model
MAX_COMPANION_BYTES = 1 << 20  # a recipe, a sidecar or a monitor profile is a few KiB
MAX_ANCESTORS = 4  # quantize <- prune <- train, with room to spare
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")  # no separators, no leading dot
_VERSION = re.compile(r"models:/([A-Za-z0-9][A-Za-z0-9._-]{0,127})/([0-9]{1,9})\Z")
HINT = "Retrain from the files instead (MODEL.keras with its .tflite beside it), or log the chain with --track."


def fetch_deployed(uri: str, ref: str, out_dir: str | Path) -> Path:
    """Download the deployed model named by `ref` from the store at `uri` into `<out_dir>/deployed/`.

    Returns:
        The float .keras, with the int8 .tflite, their recipes and sidecars and the monitor profile beside it.
    Raises:
        UsageError: no tracking URI, or `ref` names no run or model version.
        DataError: the run has no int8 model, no float ancestor, no recipe, or a file that is not what it recorded.
        TinyflowError: the store failed or did not answer.
    """
    from tinyflow.outputs import make_dir
    from tinyflow.tracking import guarded, open_client

    if not uri:
        raise UsageError("--run needs a tracking store", "Give it with tinyflow --track URI or $TINYFLOW_TRACKING_URI.")
    with guarded(uri, f"fetch the run {ref[:80]!r}"):
        client = open_client(uri, must_exist=True)
        run = client.get_run(resolve_run(client, ref))
        tflite = _model_name(client, run.info.run_id, ".tflite")
        parent = _float_ancestor(client, run)
        keras = _model_name(client, parent.info.run_id, ".keras")
        folder = make_dir(Path(out_dir) / DEPLOYED)
        stem = Path(tflite).stem
        wanted = [  # (run, artifact name, name in deployed/): all under the int8 model's stem
            (run, tflite, f"{stem}.tflite"),
            (run, f"{stem}.monitor.json", f"{stem}.monitor.json"),
            (parent, keras, f"{stem}.keras"),
            *[(run, tflite + s, f"{stem}.tflite{s}") for s in _COMPANIONS],
            *[(parent, keras + s, f"{stem}.keras{s}") for s in _COMPANIONS],
        ]
        for source, name, local in wanted:
            _download(client, source, name, folder / local, required=name in (tflite, keras))
    if not (folder / f"{stem}.tflite.recipe.json").is_file() and not (folder / f"{stem}.keras.recipe.json").is_file():
        raise DataError(f"Run {run.info.run_id} logged no recipe with its model", HINT)
    return folder / f"{stem}.keras"


def resolve_run(client, ref: str) -> str:
    """The run id behind `ref`: a run id or a unique prefix of 6+ characters, or models:/NAME/VERSION."""
    from mlflow.exceptions import MlflowException

    from tinyflow.tracking.history import compare_runs

    if ref.startswith("models:/"):
        match = _VERSION.match(ref)
        if not match:
            raise UsageError(f"{ref[:100]!r} is not models:/NAME/VERSION", "Give e.g. --run models:/m/3.")
        try:
            return client.get_model_version(match[1], match[2]).run_id
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
            raise UsageError(f"No registered model version {ref}", "See the registry (mlflow ui).") from None
    return compare_runs(client, [ref]).runs[0].run_id


def _model_name(client, run_id: str, suffix: str) -> str:
    """The name of the one `suffix` model file in the run's model folder (checked: a plain name)."""
    found = [a for a in client.list_artifacts(run_id, FOLDER) if not a.is_dir and a.path.endswith(suffix)]
    if len(found) != 1:
        what = "no" if not found else f"{len(found)}"
        raise DataError(f"Run {run_id} has {what} {suffix} model in its {FOLDER}/ artifacts", HINT)
    return _plain(found[0].path.rsplit("/", 1)[-1], run_id)


def _float_ancestor(client, run):
    """The nearest ancestor run whose output model is the float model `run` was made from."""
    sha = run.data.tags.get("tinyflow.input_sha256", "")
    node = run
    for _ in range(MAX_ANCESTORS):
        parent_id = node.data.tags.get("tinyflow.parent_run")
        if not parent_id or not sha:
            break
        node = client.get_run(parent_id)
        if node.data.tags.get("tinyflow.output_sha256") == sha:
            return node
    raise DataError(f"The float model run {run.info.run_id} was made from is not in the store", HINT)


def _download(client, run, name: str, dst: Path, required: bool) -> None:
    """Fetch `model/<name>` of `run` to `dst` if the run has it (bounded; a model must match its hash)."""
    from tinyflow.tracking.record import file_sha256

    run_id = run.info.run_id
    limit = MAX_MODEL_BYTES if name.endswith((".tflite", ".keras")) else MAX_COMPANION_BYTES
    listed = {a.path.rsplit("/", 1)[-1]: a for a in client.list_artifacts(run_id, FOLDER) if not a.is_dir}
    if name not in listed:
        dst.unlink(missing_ok=True)  # a companion of an earlier round's model would describe another
        return
    if (listed[name].file_size or 0) > limit:
        raise DataError(f"Run {run_id}: {name} is {listed[name].file_size:,} B, over {limit:,} B", HINT)
    with tempfile.TemporaryDirectory(dir=dst.parent, prefix=".fetch-") as staging:
        got = Path(client.download_artifacts(run_id, f"{FOLDER}/{name}", staging)).resolve()
        if not got.is_relative_to(Path(staging).resolve()) or not got.is_file() or got.is_symlink():
            raise DataError(f"Run {run_id}: {name} did not download as a file", HINT)
        if got.stat().st_size > limit:
            raise DataError(f"Run {run_id}: {name} is over {limit:,} B", HINT)
        expected = run.data.tags.get("tinyflow.output_sha256") if required else None
        if expected and file_sha256(got) != expected:
            raise DataError(f"Run {run_id}: {name} does not match the SHA-256 its run recorded", HINT)
        dst.unlink(missing_ok=True)
        shutil.move(str(got), dst)


def _plain(name: str, run_id: str) -> str:
    if not _NAME.match(name) or ".." in name:
        raise DataError(f"Run {run_id} has a model named {name[:60]!r}: not a plain file name", HINT)
    return name
