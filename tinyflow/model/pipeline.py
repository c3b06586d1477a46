"""File-level steps behind `tinyflow train | prune | quantize`: data spec + model file in, files + report out.

Every step splits the data the same way (`tinyflow.data.split(ds, seed)`), so the test split a
model is measured on never took part in its training, pruning or calibration.
"""

from __future__ import annotations

from pathlib import Path

from tinyflow.data import Dataset, load_dataset, parse_spec, representative, split, validate
from tinyflow.errors import DataError, UsageError
from tinyflow.outputs import check_file_target, writing


def load_splits(data: str, seed: int = 0, frontend=None) -> tuple[Dataset, Dataset, Dataset]:
    """(train, val, test) of a dataset spec (built-in name, .npz/.csv path or store folder).

    With `frontend` (a configuration, e.g. a model's sidecar) the splits hold its features: raw
    recordings in, the model's float input out.
    """
    if frontend is None:
        return split(validate(load_dataset(data, seed=seed)), seed=seed)
    from tinyflow.frontends.mapping import raw_sample_rate
    from tinyflow.model.features import featurize_splits, signal_scale

    raw, kind = load_raw(data, seed, raw_sample_rate(frontend))
    return featurize_splits(split(raw, seed=seed), frontend, signal_scale(frontend, kind))[1]


def load_raw(data: str, seed: int = 0, rate: int = 0) -> tuple[Dataset, str]:
    """Raw recordings and their spec kind: a dataset spec, or a folder of WAV/CSV files labelled by
    subfolder (imported into a temporary store: splits by the store's stable content hash).
    `rate`: the front end's sample rate (0: any); a store's or folder's recordings must have it."""
    path = Path(data)
    if not _recordings_folder(path):
        kind = parse_spec(data).kind
        ds = validate(load_dataset(data, seed=seed))
        if kind == "store" and path.is_dir():
            _check_rates(path, rate, data)
        return ds, kind
    import tempfile

    from tinyflow.data import load_store
    from tinyflow.data.importer import import_folders

    with tempfile.TemporaryDirectory(prefix="tinyflow-import-") as tmp:
        import_folders([path], Path(tmp) / "store")
        _check_rates(Path(tmp) / "store", rate, data)
        ds = load_store(Path(tmp) / "store")  # read whole into memory before the folder goes
    ds.name = path.resolve().name or "recordings"
    return ds, "store"


def _check_rates(store: Path, rate: int, where: str) -> None:
    """Recordings at another rate than the front end's would be featurized as if they were at its rate."""
    from tinyflow.data import open_store

    odd = [e.sample_rate for e in open_store(store).entries if rate and e.sample_rate and e.sample_rate != rate]
    if odd:
        raise DataError(
            f"{len(odd)} recordings in {where} are sampled at {odd[0]:g} Hz but the front end takes {rate} Hz",
            f"Resample them first: sox IN.wav -r {rate} OUT.wav",
        )


def _recordings_folder(path: Path) -> bool:
    from tinyflow.data import is_store

    return path.is_dir() and not is_store(path)


def _check_spec(data: str, raw: bool) -> None:
    # a bad spec fails in a second, before TensorFlow loads or anything is built; a front end also
    # takes a plain folder of recordings (load_raw)
    if not (raw and _recordings_folder(Path(data))):
        parse_spec(data, allow_random=False)


def model_frontend(model_path: str | Path):
    """The front end configuration stored next to a model (its sidecar), or None."""
    from tinyflow.frontends import read_sidecar

    return read_sidecar(model_path)


def carry_sidecar(src: str | Path, dst: str | Path) -> Path | None:
    """Give the model written to `dst` the front end sidecar of `src` (checked as it is read).

    Without one on `src`, a sidecar left at `dst` by an earlier run is removed: it would describe
    another model's input. Returns the sidecar written, or None.
    """
    from tinyflow.frontends import read_sidecar, write_sidecar

    config = read_sidecar(src)
    if config is None:
        drop_sidecar(dst)
        return None
    return write_sidecar(dst, config)


def drop_sidecar(model: str | Path) -> None:
    """Remove a front end sidecar left next to `model` by an earlier run (it describes another model)."""
    from tinyflow.frontends import sidecar_path

    stale = sidecar_path(model)
    if stale.is_file() or stale.is_symlink():
        stale.unlink()


def _check(model, ds: Dataset) -> None:
    classes = int(model.output_shape[-1]) if ds.task == "classification" else None
    validate(ds, model.input_shape[1:], classes)


def train_file(
    data: str,
    model_name: str,
    out: str | Path,
    width: float = 1.0,
    epochs: int = 30,
    batch_size: int = 32,
    lr: float = 1e-3,
    patience: int = 5,
    seed: int = 0,
    verbose: bool = True,
    frontend: str | None = None,
    teacher: str | Path | None = None,
    temperature: float = 4.0,
    alpha: float = 0.5,
):
    """Build `model_name` for `data`, train it and save it to `out` (.keras). Returns a TrainReport.

    With `teacher` (a trained .keras classifier for the same data) the model is distilled from it
    (tinyflow.model.distill: soft targets at `temperature`, `alpha` = weight of the label loss).

    With `frontend` (micro_speech, mfcc or imu) `data` holds raw recordings: the model trains on
    the front end's features and the configuration is saved next to it as `<out>.frontend.json`.
    `model_name` None picks tiny_cnn, or with a front end kws_cnn (audio) / mlp (IMU).
    """
    from tinyflow.model import train, zoo

    _check_spec(data, frontend is not None)
    _check_out(out, ".keras")
    teacher_model = None if teacher is None else train.load_keras(teacher)
    model_name = model_name or DEFAULT_MODELS.get(frontend or "", "tiny_cnn")
    config = None
    if frontend is None:
        tr, va, _ = load_splits(data, seed)
    else:
        tr, va, config = _raw_train_splits(data, seed, frontend)
    if tr.task == "classification":
        model = zoo.build_model(model_name, tr.input_shape, tr.num_classes, width=width, seed=seed)
    else:
        model = zoo.build_model(
            model_name, tr.input_shape, 1 if tr.y.ndim == 1 else tr.y.shape[-1], width=width, seed=seed
        )
        if model_name not in ("autoencoder",):
            _regression_head(model)
    report = train.train(
        model,
        tr,
        va,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        patience=patience,
        out=out,
        verbose=verbose,
        teacher=teacher_model,
        temperature=temperature,
        alpha=alpha,
    )
    if config is not None:
        from tinyflow.frontends import config_to_dict, write_sidecar

        write_sidecar(out, config)
        report.frontend = config_to_dict(config)
    else:
        drop_sidecar(out)
    return report


# The model `train --frontend` builds unless told: a small DS-CNN for audio frames, an MLP for IMU windows.
DEFAULT_MODELS = {"micro_speech": "kws_cnn", "mfcc": "kws_cnn", "imu": "mlp"}


def _raw_train_splits(data: str, seed: int, frontend: str):
    """(train features, val features, fitted configuration) of raw recordings for `frontend`."""
    from tinyflow.frontends import default_config
    from tinyflow.frontends.mapping import raw_sample_rate
    from tinyflow.model.features import featurize_splits, frontend_for, signal_scale

    raw, kind = load_raw(data, seed, raw_sample_rate(default_config(frontend)))
    if raw.task != "classification":
        raise UsageError(
            f"--frontend trains classifiers on labelled recordings, but {data} is a {raw.task} dataset",
            "Give a store of WAV/CSV recordings labelled by folder (tinyflow data import).",
        )
    config = frontend_for(frontend, raw)
    scale = signal_scale(config, kind)
    config, (tr, va, _) = featurize_splits(split(raw, seed=seed), config, scale, fit=True)
    return tr, va, config


def _regression_head(model) -> None:
    # Zoo classifiers end in softmax; a regression target needs a linear output.
    last = model.layers[-1]
    if getattr(last, "activation", None) is not None:
        import keras

        last.activation = keras.activations.linear


def prune_file(
    model_path: str | Path,
    data: str,
    out: str | Path,
    ratio: float = 0.0,
    sparsity: float = 0.0,
    epochs: int = 5,
    seed: int = 0,
    calibration: int = 100,
    verbose: bool = True,
):
    """Structured (`ratio` of filters/units) then unstructured (`sparsity`) pruning with fine-tuning.

    Returns:
        A PruneReport comparing the input model with the saved result (int8 bytes and test metrics).
    """
    from tinyflow.model import prune, train

    if ratio <= 0 and sparsity <= 0:
        raise UsageError(
            "Nothing to prune: --ratio and --sparsity are both 0",
            "Give --ratio 0.5 (structured) and/or --sparsity 0.5 (unstructured).",
        )
    frontend = model_frontend(model_path)
    _check_spec(data, frontend is not None)
    _check_out(out, ".keras")
    before = train.load_keras(model_path)
    tr, va, te = load_splits(data, seed, frontend)
    _check(before, tr)
    model, methods = before, []
    if ratio > 0:
        model = prune.prune_structured(model, ratio, tr, va, epochs=epochs, seed=seed, verbose=verbose)
        methods.append(f"structured {ratio:.0%}")
    if sparsity > 0:
        if model is before:
            model = _copy(before)
        model = prune.prune_unstructured(model, tr, va, sparsity=sparsity, epochs=epochs, seed=seed, verbose=verbose)
        methods.append(f"unstructured {sparsity:.0%}")
    train.save_keras(model, out)
    carry_sidecar(model_path, out)
    report = prune.compare(before, model, " + ".join(methods))
    return prune.measure(report, before, model, te, representative(tr, calibration, seed), arena=True)


def _copy(model):
    import keras

    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def quantize_file(
    model_path: str | Path, data: str, out: str | Path, calibration: int = 200, seed: int = 0, qat_epochs: int = 0
):
    """Quantize a .keras model to int8 (calibrated on the train split), write `out`, return the QuantizeReport.

    With `qat_epochs` > 0 the model is first fine-tuned that long as a QAT graph (tinyflow.model.qat)
    on the train split (early stopping on the validation split); the int8 model keeps its ranges.
    """
    from tinyflow.model import quantize, train

    frontend = model_frontend(model_path)
    _check_spec(data, frontend is not None)
    _check_out(out, None)
    model = train.load_keras(model_path)
    tr, va, te = load_splits(data, seed, frontend)
    _check(model, te)
    calib = representative(tr, calibration, seed)
    qat_model = None
    if qat_epochs > 0:
        from tinyflow.model import qat

        qat_model = qat.qat_model(model)
        qat.fine_tune(qat_model, tr, va, calib, epochs=qat_epochs, seed=seed)
    data_bytes, report = quantize.quantize(model, calib, te, qat_model=qat_model)
    report.qat_epochs = qat_epochs
    with writing(out):
        Path(out).write_bytes(data_bytes)
    carry_sidecar(model_path, out)
    return report


def _check_out(out: str | Path, suffix: str | None) -> None:
    # Fail in a second on a bad -o, not after minutes of training or calibration.
    if suffix and Path(out).suffix != suffix:
        raise UsageError(
            f"Output {out} does not end in {suffix}", f"Name the output <name>{suffix} (Keras 3 needs it)."
        )
    check_file_target(out)
