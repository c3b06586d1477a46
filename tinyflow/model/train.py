"""Training: a thin, seeded layer over `keras.Model.fit` with early stopping; safe model loading.

from tinyflow.data import load_dataset, split
from tinyflow.model import zoo, train
tr, va, te = split(load_dataset("digits"), seed=0)
model = zoo.build_model("tiny_cnn", tr.input_shape, tr.num_classes)
report = train.train(model, tr, va, epochs=30, seed=0, out="model.keras")
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyflow import events, metrics
from tinyflow.data import Dataset, validate
from tinyflow.errors import ModelError


@dataclass
class TrainReport:
    """What training did: epochs run, the best epoch, per-epoch history, final metrics."""

    model: str
    dataset: str
    epochs_run: int
    best_epoch: int
    history: dict[str, list[float]] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)  # on the validation set
    seconds: float = 0.0
    path: str | None = None
    metrics_on: str = "validation"  # the split `metrics` were measured on ("training" without one)
    class_names: list[str] = field(default_factory=list)  # output i is class_names[i] (classification)
    frontend: dict | None = None  # the front end configuration the model was trained on (its sidecar)
    teacher: dict | None = None  # distillation: the teacher's name, temperature and alpha

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def __str__(self) -> str:
        lines = [
            f"Trained {self.model} on {self.dataset}: {self.epochs_run} epochs "
            f"(best {self.best_epoch}) in {self.seconds:.1f} s"
        ]
        width = max((len(f"{self.metrics_on} {k}") for k in self.metrics), default=0)
        lines += [f"  {f'{self.metrics_on} {k}':<{width}}  {v:.4f}" for k, v in self.metrics.items()]
        if self.teacher:
            t = self.teacher
            lines.append(f"  distilled from {t['model']} (temperature {t['temperature']:g}, alpha {t['alpha']:g})")
        if self.frontend:
            lines.append(f"  front end {self.frontend['frontend']} (features as the device computes them)")
        if self.path:
            lines.append(f"  saved to {self.path}")
        return "\n".join(lines)


def quiet_tf() -> None:
    """Silence TensorFlow's C++ and Python chatter (retracing warnings) so progress stays readable."""
    from tinyflow.model.noise import load_tensorflow

    load_tensorflow()


def deterministic() -> None:
    """TensorFlow's deterministic kernels: the same seed gives the same weights in any process
    (a sweep's trials, serial or on Ray workers)."""
    quiet_tf()
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()


def compile_for(model, task: str, lr: float = 1e-3) -> None:
    """Compile `model` with the loss and metric that fit `task`."""
    import keras

    opt = keras.optimizers.Adam(learning_rate=lr)
    if task == "classification":
        model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    else:
        model.compile(optimizer=opt, loss="mse", metrics=["mae"])


def targets(model, ds: Dataset) -> np.ndarray:
    """What the model is trained to output: labels, targets, or the input (anomaly autoencoders)."""
    if ds.task == "anomaly" and tuple(model.output_shape[1:]) == tuple(ds.x.shape[1:]):
        return ds.x
    return ds.y


def train(
    model,
    train_ds: Dataset,
    val_ds: Dataset | None = None,
    epochs: int = 30,
    batch_size: int = 32,
    lr: float = 1e-3,
    seed: int = 0,
    patience: int = 5,
    out: str | Path | None = None,
    verbose: bool = True,
    teacher=None,
    temperature: float = 4.0,
    alpha: float = 0.5,
) -> TrainReport:
    """Fit `model` on `train_ds`, stop early on the validation loss, keep the best weights.

    Args:
        val_ds: validation set for early stopping; without it the last epoch is kept.
        seed: seeds Python, numpy and TensorFlow (keras.utils.set_random_seed).
        out: save the trained model here as `.keras`.
        verbose: one Progress("train", epoch, epochs) event per epoch (tinyflow.events; the CLI shows them).
        teacher: a trained classifier to distill from (tinyflow.model.distill): the loss becomes
            alpha x hard-label loss + (1 - alpha) x T^2 x KL at `temperature`.
    """
    import keras

    quiet_tf()
    validate(train_ds, model.input_shape[1:], _classes(model, train_ds))
    if val_ds is not None and len(val_ds) == 0:
        val_ds = None
    if val_ds is not None:
        validate(val_ds, model.input_shape[1:], _classes(model, val_ds))
    keras.utils.set_random_seed(seed)
    y_train = targets(model, train_ds)
    y_val = None if val_ds is None else targets(model, val_ds)
    if teacher is not None:
        from tinyflow.model import distill

        distill.check_teacher(teacher, model, train_ds)
        distill.compile_student(model, lr, temperature, alpha)
        y_train = distill.with_teacher(teacher, train_ds)
        y_val = None if val_ds is None else distill.with_teacher(teacher, val_ds)
    elif not model.compiled:
        compile_for(model, train_ds.task, lr)
    monitor = "val_loss" if val_ds is not None else "loss"
    callbacks = [keras.callbacks.EarlyStopping(monitor=monitor, patience=patience, restore_best_weights=True)]
    if verbose:
        callbacks.append(StderrProgress(epochs))
    start = time.monotonic()
    hist = model.fit(
        train_ds.x,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=None if val_ds is None else (val_ds.x, y_val),
        callbacks=callbacks,
        verbose=0,
        shuffle=True,
    )
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    best = int(np.argmin(history[monitor])) + 1
    report = TrainReport(
        model.name,
        train_ds.name,
        len(history[monitor]),
        best,
        history,
        evaluate(model, val_ds if val_ds is not None else train_ds),
        time.monotonic() - start,
        metrics_on="validation" if val_ds is not None else "training",
        class_names=list(train_ds.class_names) if train_ds.task == "classification" else [],
    )
    if teacher is not None:
        report.teacher = {"model": teacher.name, "temperature": temperature, "alpha": alpha}
        compile_for(model, train_ds.task, lr)  # the saved file carries a standard loss, not the closure
    if out is not None:
        report.path = str(save_keras(model, out))
    return report


def _classes(model, ds: Dataset) -> int | None:
    return int(model.output_shape[-1]) if ds.task == "classification" else None


def evaluate(model, ds: Dataset) -> dict[str, float]:
    """Keras float metrics on `ds`: accuracy for classification, else mse and mae."""
    quiet_tf()
    pred = model.predict(ds.x, batch_size=256, verbose=0)
    return metrics_of(pred, ds, targets(model, ds))


def metrics_of(pred: np.ndarray, ds: Dataset, want: np.ndarray | None = None) -> dict[str, float]:
    """Metrics of float predictions `pred` against `ds` (shared by float, LiteRT and TFLM runs)."""
    if ds.task == "classification":
        return {"accuracy": metrics.accuracy(ds.y, np.argmax(pred, axis=-1))}
    return metrics.regression(ds.y if want is None else want, pred, keys=("mse", "mae"))


def save_keras(model, path: str | Path) -> Path:
    """Save as a `.keras` file (the suffix is required by Keras 3)."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelError(f"Model path {path} does not end in .keras", "Save Keras 3 models as <name>.keras.")
    from tinyflow.outputs import make_dir, writing

    make_dir(path.parent)
    with writing(path):
        model.save(path)
    return path


def load_keras(path: str | Path):
    """Load a `.keras` file with safe_mode=True: no lambdas or arbitrary code from the file.

    Raises:
        ModelError: missing file, wrong suffix, unreadable or unsafe content.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"Model file {path} does not exist", "Train one with `tinyflow train` or give a .keras path.")
    if path.suffix != ".keras":
        raise ModelError(
            f"Model file {path} is not a .keras file (suffix '{path.suffix}')",
            "Give a Keras 3 .keras file; convert .h5/SavedModel models with Keras first.",
        )
    quiet_tf()  # after the checks above: a wrong path fails without waiting for TensorFlow
    import keras

    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises ValueError, OSError, zipfile errors, TypeError...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"Cannot load {path}: {first[:200]}",
            "Give a valid .keras file saved by Keras 3; lambda layers are refused (safe mode).",
        ) from None


def _progress_class():
    import keras

    class StderrProgressImpl(keras.callbacks.Callback):
        """Forwards each finished epoch to the progress sinks; the CLI draws them on stderr."""

        def __init__(self, epochs: int):
            super().__init__()
            self.epochs = epochs

        def on_epoch_end(self, epoch, logs=None):
            parts = " ".join(f"{k}={v:.4f}" for k, v in (logs or {}).items() if k != "learning_rate")
            events.emit(events.Progress("train", epoch + 1, self.epochs, parts))

    return StderrProgressImpl


def StderrProgress(epochs: int):  # noqa: N802 - reads like the class it returns
    """A Keras callback emitting one Progress event per epoch (tinyflow.events)."""
    return _progress_class()(epochs)
