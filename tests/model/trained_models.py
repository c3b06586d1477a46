"""Models shared by the model tests, built once per test process (not a conftest: the root
conftest is imported as `conftest` by other tests, so this folder must not shadow it)."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=None)
def digits_splits():
    from tinyflow.data import load_dataset, split

    return split(load_dataset("digits"), seed=0)


@functools.lru_cache(maxsize=None)
def trained_cnn():
    """tiny_cnn trained for a few epochs on digits (about 3 s); tests must not modify it."""
    from tinyflow.model import train, zoo

    tr, va, _ = digits_splits()
    model = zoo.build_model("tiny_cnn", tr.input_shape, tr.num_classes, seed=0)
    train.train(model, tr, va, epochs=12, seed=0, verbose=False)
    return model
