"""File-level steps behind `tinyflow train | prune | quantize`: data spec + model file in, files + report out.

Every step splits the data the same way (`tinyflow.data.split(ds, seed)`), so the test split a
model is measured on never took part in its training, pruning or calibration.
"""

from __future__ import annotations

from pathlib import Path

from tinyflow.data import Dataset, load_dataset, parse_spec, representative, split, validate
from tinyflow.errors import UsageError
from tinyflow.outputs import check_file_target, writing


def load_splits(data: str, seed: int = 0) -> tuple[Dataset, Dataset, Dataset]:
    """(train, val, test) of a dataset spec (built-in name or .npz/.csv path)."""
    return split(validate(load_dataset(data, seed=seed)), seed=seed)


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
):
    """Build `model_name` for `data`, train it and save it to `out` (.keras). Returns a TrainReport."""
    from tinyflow.model import train, zoo

    parse_spec(data, allow_random=False)  # a bad spec fails in a second, before anything is built
    _check_out(out, ".keras")
    tr, va, _ = load_splits(data, seed)
    if tr.task == "classification":
        model = zoo.build_model(model_name, tr.input_shape, tr.num_classes, width=width, seed=seed)
    else:
        model = zoo.build_model(
            model_name, tr.input_shape, 1 if tr.y.ndim == 1 else tr.y.shape[-1], width=width, seed=seed
        )
        if model_name not in ("autoencoder",):
            _regression_head(model)
    return train.train(
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
    )


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
    parse_spec(data, allow_random=False)  # before TensorFlow loads the model
    _check_out(out, ".keras")
    before = train.load_keras(model_path)
    tr, va, te = load_splits(data, seed)
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
    report = prune.compare(before, model, " + ".join(methods))
    return prune.measure(report, before, model, te, representative(tr, calibration, seed), arena=True)


def _copy(model):
    import keras

    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def quantize_file(model_path: str | Path, data: str, out: str | Path, calibration: int = 200, seed: int = 0):
    """Quantize a .keras model to int8 (calibrated on the train split), write `out`, return the QuantizeReport."""
    from tinyflow.model import quantize, train

    parse_spec(data, allow_random=False)  # before TensorFlow loads the model
    _check_out(out, None)
    model = train.load_keras(model_path)
    tr, _, te = load_splits(data, seed)
    _check(model, te)
    data_bytes, report = quantize.quantize(model, representative(tr, calibration, seed), te)
    with writing(out):
        Path(out).write_bytes(data_bytes)
    return report


def _check_out(out: str | Path, suffix: str | None) -> None:
    # Fail in a second on a bad -o, not after minutes of training or calibration.
    if suffix and Path(out).suffix != suffix:
        raise UsageError(
            f"Output {out} does not end in {suffix}", f"Name the output <name>{suffix} (Keras 3 needs it)."
        )
    check_file_target(out)
