"""Training and safe model loading."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import trained_models

from tinyflow.errors import DataError, ModelError

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def digits_splits():
    return trained_models.digits_splits()


def test_train_is_seeded_saves_and_reloads(tf, digits_splits, tmp_path, capsys):
    from tinyflow.events import subscribe
    from tinyflow.model import train, zoo

    tr, va, te = digits_splits
    preds, seen = [], []
    for run in range(2):
        model = zoo.build_model("mlp", tr.input_shape, tr.num_classes, seed=5)
        with subscribe(seen.append):  # epochs are progress events; the CLI renders them
            report = train.train(model, tr, va, epochs=3, seed=5, out=tmp_path / f"m{run}.keras")
        preds.append(model.predict(te.x[:20], verbose=0))
    assert np.allclose(preds[0], preds[1], atol=1e-6)
    assert report.epochs_run == 3 and report.metrics["accuracy"] > 0.5
    assert [(e.stage, e.done, e.total) for e in seen[-3:]] == [("train", n, 3) for n in (1, 2, 3)]
    assert "val_accuracy=" in seen[-1].detail and "epoch 3/3" not in capsys.readouterr().err  # nobody prints
    loaded = train.load_keras(tmp_path / "m1.keras")
    assert np.allclose(loaded.predict(te.x[:20], verbose=0), preds[1], atol=1e-6)


def test_early_stopping_stops(tf, digits_splits):
    from tinyflow.model import train, zoo

    tr, va, _ = digits_splits
    model = zoo.build_model("mlp", tr.input_shape, tr.num_classes)
    report = train.train(model, tr.subset(slice(0, 64)), va, epochs=200, lr=0.05, patience=2, verbose=False)
    assert report.epochs_run < 200 and report.best_epoch <= report.epochs_run


def test_train_rejects_bad_data(tf, digits_splits):
    from tinyflow.model import train, zoo

    tr, _, _ = digits_splits
    model = zoo.build_model("mlp", (8, 8, 1), 5)
    with pytest.raises(DataError, match=r"labels from 0 to 9 but they must be in \[0, 4\]"):
        train.train(model, tr, epochs=1, verbose=False)


def test_load_keras_errors(tf, tmp_path):
    import keras

    from tinyflow.model.train import load_keras

    with pytest.raises(ModelError, match="does not exist"):
        load_keras(tmp_path / "none.keras")
    (tmp_path / "m.h5").write_bytes(b"x")
    with pytest.raises(ModelError, match="not a .keras file"):
        load_keras(tmp_path / "m.h5")
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="Cannot load"):
        load_keras(tmp_path / "junk.keras")
    # A Lambda layer carries Python bytecode: safe mode must refuse it.
    inp = keras.Input((2,))
    evil = keras.Model(inp, keras.layers.Lambda(lambda t: t * 2)(inp))
    evil.save(tmp_path / "evil.keras")
    assert zipfile.is_zipfile(tmp_path / "evil.keras")
    with pytest.raises(ModelError, match="Cannot load"):
        load_keras(tmp_path / "evil.keras")


def test_targets_by_task(tf):
    # Regression learns y even when x and the output have the same shape (sine: (n, 1));
    # anomaly autoencoders learn to reconstruct x.
    from tinyflow.data import Dataset, load_dataset
    from tinyflow.model import zoo
    from tinyflow.model.train import targets

    sine = load_dataset("sine", n=50)
    reg = zoo.build_model("mlp", (1,), 1)
    assert targets(reg, sine) is sine.y
    x = np.random.default_rng(0).normal(size=(8, 640)).astype(np.float32)
    ad = Dataset(x, np.zeros(8, np.int64), "anomaly", [], "ad")
    assert targets(zoo.build_model("autoencoder", width=0.1), ad) is ad.x
