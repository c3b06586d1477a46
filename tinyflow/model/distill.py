"""Knowledge distillation: train a small student on a trained teacher's soft targets (Hinton et al. 2015).

loss = alpha x cross-entropy(labels, student) + (1 - alpha) x T^2 x KL(teacher_T || student_T)

where p_T = softmax(log p / T) softens a probability vector at temperature T (the zoo's
classifiers end in softmax, so log p are their logits up to a constant, which softmax ignores);
T^2 keeps the soft term's gradients the size of the hard term's as T grows. The teacher runs
once over the data before training (no augmentation, so its outputs per sample never change) and
its probabilities travel next to the label in the target array: plain `keras.Model.fit`, no
custom training step, any backend.
"""

from __future__ import annotations

import numpy as np

from tinyflow.data import Dataset
from tinyflow.errors import UsageError

EPS = 1e-7  # probabilities are clipped before the log: a saturated softmax gives exact zeros


def check_teacher(teacher, student, ds: Dataset) -> None:
    """Refuse a teacher that cannot teach this student on this data (one line saying why)."""
    if ds.task != "classification":
        raise UsageError(
            f"Distillation needs a classification dataset, {ds.name} is a {ds.task} dataset",
            "Train without --teacher.",
        )
    if tuple(teacher.input_shape[1:]) != tuple(student.input_shape[1:]):
        raise UsageError(
            f"The teacher takes inputs {tuple(teacher.input_shape[1:])} but the student "
            f"{tuple(student.input_shape[1:])}",
            "Give a teacher trained on the same data (and front end).",
        )
    if tuple(teacher.output_shape[1:]) != tuple(student.output_shape[1:]):
        raise UsageError(
            f"The teacher has outputs {tuple(teacher.output_shape[1:])} but the student "
            f"{tuple(student.output_shape[1:])}",
            "Give a teacher trained on the same classes.",
        )


def with_teacher(teacher, ds: Dataset) -> np.ndarray:
    """Targets [N, 1 + classes]: the label, then the teacher's probabilities for the sample."""
    probs = np.asarray(teacher.predict(ds.x, batch_size=256, verbose=0), np.float32)
    if not np.all(np.isfinite(probs)):
        raise UsageError("The teacher outputs NaN or inf on this data", "Give a teacher that was trained on it.")
    return np.concatenate([np.asarray(ds.y, np.float32)[:, None], probs], axis=1)


def soften(probs, temperature: float):
    """log of the probabilities softened at `temperature` (log-softmax of log p / T)."""
    from keras import ops

    return ops.log_softmax(ops.log(ops.clip(probs, EPS, 1.0)) / temperature, axis=-1)


def distillation_loss(temperature: float, alpha: float):
    """The Keras loss of `y_true` = `with_teacher` targets and `y_pred` = student probabilities."""
    from keras import ops

    if not temperature > 0 or not 0 <= alpha <= 1:
        raise UsageError(
            f"Distillation needs temperature > 0 and 0 <= alpha <= 1, got {temperature} and {alpha}",
            "Use e.g. --temperature 4 --alpha 0.5.",
        )

    def loss(y_true, y_pred):
        labels = ops.cast(y_true[:, 0], "int32")
        hard = ops.sparse_categorical_crossentropy(labels, ops.clip(y_pred, EPS, 1.0))
        log_t, log_s = soften(y_true[:, 1:], temperature), soften(y_pred, temperature)
        kl = ops.sum(ops.exp(log_t) * (log_t - log_s), axis=-1)
        return alpha * hard + (1.0 - alpha) * temperature**2 * kl

    return loss


def accuracy(y_true, y_pred):
    """Accuracy against the label column of `with_teacher` targets."""
    from keras import ops

    labels = ops.cast(y_true[:, 0], "int32")
    return ops.mean(ops.cast(ops.equal(ops.cast(ops.argmax(y_pred, axis=-1), "int32"), labels), "float32"))


def compile_student(student, lr: float, temperature: float, alpha: float) -> None:
    """Compile `student` for `with_teacher` targets (Adam, the distillation loss, label accuracy)."""
    import keras

    student.compile(
        optimizer=keras.optimizers.Adam(learning_rate=lr),
        loss=distillation_loss(temperature, alpha),
        metrics=[accuracy],
    )
