"""One sweep trial: build and train a zoo model with the trial's parameters, prune, quantize, measure.

Every step is an existing one (model/ zoo, train, prune, quantize; inspection's board fit;
workflows' evaluate and profile on a simulated target): a trial composes them and returns plain
data, so it runs the same in this process or as a Ray task on another machine (which sees no
output folder: the int8 model comes back as bytes). Seeded with the sweep's seed, not the trial
number: the same parameters give the same model and figures, serial or parallel.
"""

from __future__ import annotations

import tempfile
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

from tinyflow.errors import TinyflowError, UsageError


def run_trial(params: dict, settings: dict) -> dict:
    """Train, compress and measure one point of the space.

    Args:
        params: model, width, resolution, prune, quantization, board (one value each).
        settings: SweepConfig.to_dict() (dataset, seed, epochs, objectives, ...).
    Returns:
        {"params", "metrics": {accuracy, latency, instructions, ram, flash, fits, float_accuracy},
         "model": int8 .tflite bytes, "seconds"}; or {"params", "error": message} when a step
        refused the trial (a model that cannot be built, pruned or converted).
    """
    start = time.monotonic()
    try:
        metrics, model = _measure(params, settings)
    except TinyflowError as exc:
        return {"params": params, "error": str(exc)[:500], "seconds": time.monotonic() - start}
    return {"params": params, "metrics": metrics, "model": model, "seconds": round(time.monotonic() - start, 2)}


def _measure(params: dict, settings: dict) -> tuple[dict, bytes]:
    from tinyflow.model.noise import silenced

    _deterministic()
    objectives = settings["objectives"]
    tr, va, te = (resize(ds, int(params["resolution"])) for ds in _splits(settings["dataset"], int(settings["seed"])))
    with silenced():  # TensorFlow's native lines (tf.data, the converter): replayed only if a step fails
        int8, float_accuracy = _train_and_compress(params, settings, tr, va, te)
    metrics = {"float_accuracy": float_accuracy, **_fit(int8, params["board"])}
    with tempfile.TemporaryDirectory(prefix="tinyflow-trial-") as tmp:
        path = Path(tmp) / "model_int8.tflite"
        path.write_bytes(int8)
        if "accuracy" in objectives:
            metrics["accuracy"] = _accuracy(path, te, settings, Path(tmp))
        if "latency" in objectives:
            metrics["latency"] = _profile(path, f"sim://tflm?board={params['board']}", params["board"]).latency_ms
        if "instructions" in objectives:
            metrics["instructions"] = _profile(path, f"sim://qemu-m4?board={params['board']}", None).instructions
    return metrics, int8


def _train_and_compress(params: dict, settings: dict, tr, va, te) -> tuple[bytes, float]:
    """Build, train, prune and quantize the trial's model: (int8 .tflite, float test accuracy)."""
    from tinyflow.data import representative
    from tinyflow.model import prune, quantize, train, zoo

    seed = int(settings["seed"])
    model = zoo.build_model(params["model"], tr.input_shape, tr.num_classes, width=float(params["width"]), seed=seed)
    train.train(model, tr, va, epochs=int(settings["epochs"]), seed=seed, verbose=False)
    if float(params["prune"]) > 0:
        model = prune.prune_structured(
            model, float(params["prune"]), tr, va, epochs=int(settings["finetune_epochs"]), seed=seed
        )
    calibration = representative(tr, int(settings["calibration"]), seed)
    if params["quantization"] == "qat":
        int8 = _qat(model, tr, va, calibration, int(settings["qat_epochs"]), seed)
    else:
        int8 = quantize.to_tflite(model, calibration)
    return int8, round(train.evaluate(model, te)["accuracy"], 6)


def _qat(model, tr, va, calibration, epochs: int, seed: int) -> bytes:
    """Quantization-aware fine-tuning (tinyflow.model.qat), converted with the ranges it learned."""
    from tinyflow.model import qat, quantize

    graph = qat.qat_model(model)
    qat.fine_tune(graph, tr, va, calibration, epochs=epochs, seed=seed, verbose=False)
    return quantize.to_tflite(graph, qat=True)


@lru_cache(maxsize=4)
def _splits(dataset: str, seed: int):
    """(train, val, test) of the dataset, split as train/prune/quantize split it; loaded once per process."""
    from tinyflow.model.pipeline import load_splits

    splits = load_splits(dataset, seed)
    if splits[0].task != "classification":
        raise UsageError(
            f"A sweep searches classifiers; {dataset} is a {splits[0].task} dataset", "Give labelled data."
        )
    return splits


def _deterministic() -> None:
    """TensorFlow's deterministic kernels (set in tinyflow.model, the one place TensorFlow is imported)."""
    from tinyflow.model.train import deterministic

    deterministic()


def resize(ds, resolution: int):
    """`ds` with its HxW(xC) samples resampled to resolution x resolution (nearest neighbour); 0 keeps them.

    Raises:
        UsageError: the samples are not images (a resolution needs a height and a width).
    """
    if resolution == 0 or tuple(ds.x.shape[1:3]) == (resolution, resolution):
        return ds
    if ds.x.ndim not in (3, 4):
        raise UsageError(
            f"space.resolution resamples images, but {ds.name} samples have shape {tuple(ds.x.shape[1:])}",
            "Drop space.resolution for this dataset.",
        )
    from dataclasses import replace

    rows = (np.arange(resolution) + 0.5) * ds.x.shape[1] / resolution
    cols = (np.arange(resolution) + 0.5) * ds.x.shape[2] / resolution
    x = ds.x[:, rows.astype(int)][:, :, cols.astype(int)]
    return replace(ds, x=np.ascontiguousarray(x, dtype=np.float32))


def _fit(int8: bytes, board: str) -> dict:
    """RAM and flash on the board (TFLM arena measured, with the margin firmware reserves) and the verdict."""
    from tinyflow.inspection import inspect_model

    fit = inspect_model(int8, board=board).fit
    return {"ram": int(fit.ram_needed), "flash": int(fit.flash_needed), "fits": bool(fit.fits)}


def _accuracy(path: Path, test, settings: dict, tmp: Path) -> float:
    """int8 accuracy of the model on the simulated target, streamed over the device link like `tinyflow eval`."""
    from tinyflow.workflows.config import EvalConfig
    from tinyflow.workflows.evaluate import evaluate

    data = tmp / "test.npz"
    np.savez(data, x=test.x, y=test.y)
    limit = int(settings.get("eval_samples") or 0) or None
    report = evaluate(EvalConfig(path, dataset=str(data), target=settings["target"], split="all", limit=limit))
    return round(float(report.metrics["accuracy"]), 6)


def _profile(path: Path, target: str, board: str | None):
    from tinyflow.workflows.config import ProfileConfig
    from tinyflow.workflows.profile import profile_model

    return profile_model(ProfileConfig(path, target=target, board=board, runs=1))
