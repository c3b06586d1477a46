"""Which samples `tinyflow eval --dataset` streams: the held-out test split of a built-in set by default."""

from __future__ import annotations

import numpy as np
import pytest

from tinyflow.data import load_dataset, split
from tinyflow.errors import UsageError
from tinyflow.workflows.eval_data import TensorSpec, load_eval_data

DIGITS_IN = [TensorSpec("x", (1, 8, 8, 1), np.dtype(np.int8), scale=1 / 255, zero_point=-128)]


def test_builtin_dataset_defaults_to_the_test_split_train_uses():
    train, val, test = split(load_dataset("digits"), seed=3)
    data = load_eval_data("digits", DIGITS_IN, seed=3)
    assert len(data) == len(test) and len(data) < len(train)
    np.testing.assert_array_equal(data.labels, test.y)
    assert len(load_eval_data("digits", DIGITS_IN, seed=3, split="val")) == len(val)
    assert len(load_eval_data("digits", DIGITS_IN, seed=3, split="all")) == len(train) + len(val) + len(test)


def test_a_file_is_used_whole_unless_asked(tmp_path):
    ds = load_dataset("digits")
    path = tmp_path / "mine.npz"
    np.savez(path, x=ds.x[:40], y=ds.y[:40])
    assert len(load_eval_data(str(path), DIGITS_IN)) == 40
    assert len(load_eval_data(str(path), DIGITS_IN, split="test")) < 40


def test_unknown_split_is_a_usage_error():
    with pytest.raises(UsageError, match="Unknown split 'holdout'"):
        load_eval_data("digits", DIGITS_IN, split="holdout")
