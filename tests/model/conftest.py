"""Fixtures for model tests: one small tiny_cnn trained on digits, shared by the module tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def digits_splits():
    from tinyflow.data import load_dataset, split

    return split(load_dataset("digits"), seed=0)


@pytest.fixture(scope="session")
def trained_cnn(tf, digits_splits):
    """tiny_cnn trained for a few epochs on digits (about 3 s); tests must not modify it."""
    from tinyflow.model import train, zoo

    tr, va, _ = digits_splits
    model = zoo.build_model("tiny_cnn", tr.input_shape, tr.num_classes)
    train.train(model, tr, va, epochs=12, seed=0, verbose=False)
    return model

