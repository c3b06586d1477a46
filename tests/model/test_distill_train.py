"""Distillation (tinyflow.model.distill): the loss, training with a teacher, `tinyflow train --teacher`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trained_models
from click.testing import CliRunner

from tinyflow.cli.main import cli

pytestmark = pytest.mark.tf


def _numpy_loss(labels, teacher, student, t, alpha):
    def soft(p):
        z = np.log(np.clip(p, 1e-7, 1)) / t
        z = np.exp(z - z.max(-1, keepdims=True))
        return z / z.sum(-1, keepdims=True)

    pt, ps = soft(teacher), soft(student)
    kl = np.sum(pt * (np.log(pt) - np.log(ps)), -1)
    hard = -np.log(np.clip(student[np.arange(len(labels)), labels], 1e-7, 1))
    return alpha * hard + (1 - alpha) * t**2 * kl


def test_loss_is_hard_plus_t2_scaled_kl(tf):
    from tinyflow.errors import UsageError
    from tinyflow.model import distill

    rng = np.random.default_rng(0)
    teacher, student = (rng.dirichlet(np.ones(5), 6).astype(np.float32) for _ in range(2))
    labels = rng.integers(0, 5, 6)
    y_true = np.concatenate([labels[:, None].astype(np.float32), teacher], 1)
    for t, alpha in ((1.0, 0.5), (4.0, 0.1), (10.0, 0.0)):
        got = np.asarray(distill.distillation_loss(t, alpha)(y_true, student))
        assert np.allclose(got, _numpy_loss(labels, teacher, student, t, alpha), rtol=1e-4, atol=1e-5)
    # the soft term vanishes when the student already says what the teacher says
    same = np.asarray(distill.distillation_loss(4.0, 0.0)(y_true, teacher))
    assert np.allclose(same, 0, atol=1e-5)
    with pytest.raises(UsageError, match="temperature > 0"):
        distill.distillation_loss(0.0, 0.5)


def test_training_with_a_teacher_lowers_the_distillation_loss(tf):
    from tinyflow.model import train, zoo

    tr, va, _ = trained_models.digits_splits()
    teacher = trained_models.trained_cnn()
    student = zoo.build_model("mlp", tr.input_shape, tr.num_classes, width=0.5, seed=0)
    report = train.train(
        student, tr, va, epochs=5, lr=3e-3, seed=0, patience=5, verbose=False, teacher=teacher, temperature=4
    )
    loss = report.history["loss"]
    assert loss[-1] < 0.6 * loss[0] and report.history["val_loss"][-1] < report.history["val_loss"][0]
    assert report.history["accuracy"][-1] > report.history["accuracy"][0]
    assert report.teacher == {"model": "tiny_cnn", "temperature": 4, "alpha": 0.5}
    assert "distilled from tiny_cnn" in str(report) and report.metrics["accuracy"] > 0.5
    assert student.loss == "sparse_categorical_crossentropy"  # saved with a standard loss, not the closure


def test_train_teacher_cli(tf, tmp_path):
    teacher, student = str(tmp_path / "t.keras"), str(tmp_path / "s.keras")
    trained_models.trained_cnn().save(teacher)
    args = ["train", "-d", "digits", "-m", "mlp", "--width", "0.25", "--epochs", "2", "--json"]
    r = CliRunner().invoke(cli, [*args, "-o", student, "--teacher", teacher, "--temperature", "3", "--alpha", "0.2"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout[r.stdout.index("{") :])
    assert rep["teacher"] == {"model": "tiny_cnn", "temperature": 3.0, "alpha": 0.2} and rep["epochs_run"] == 2
    r = CliRunner().invoke(cli, ["train", "-d", "gestures", "-m", "mlp", "-o", student, "--teacher", teacher])
    assert r.exit_code == 2 and "Error: The teacher takes inputs (8, 8, 1) but the student (64, 3)" in r.output
    r = CliRunner().invoke(cli, [*args, "-o", student, "--teacher", teacher, "--alpha", "1.5"])
    assert r.exit_code == 2
