"""tinyflow.data.dataset: validation errors name what was received; seeds are checked once."""

from __future__ import annotations

import numpy as np
import pytest

from tinyflow.data import Dataset, load_dataset, split, validate
from tinyflow.errors import DataError, UsageError


def _ds(x, y, task="classification"):
    return Dataset(np.asarray(x, np.float32), np.asarray(y), task, [], "t")


@pytest.mark.parametrize(
    "ds, kwargs, match",
    [
        (_ds(np.zeros((0, 3)), np.zeros(0, np.int64)), {}, r"is empty \(x has shape \(0, 3\)\)"),
        (_ds(np.zeros((5, 3)), np.zeros(4, np.int64)), {}, "5 samples in x but 4 labels"),
        (_ds([[0, np.nan], [1, np.inf]], [0, 1]), {}, "1 NaN and 1 inf values in x"),
        (_ds(np.zeros((2, 3)), [0.0, np.nan], "regression"), {}, "1 NaN and 0 inf values in y"),
        (_ds(np.zeros((2, 4)), [0, 1]), {"input_shape": (8, 8, 1)}, r"shape \(4,\) but the model expects \(8, 8, 1\)"),
        (_ds(np.zeros((2, 3)), [0, 10]), {"num_classes": 10}, r"labels from 0 to 10 but they must be in \[0, 9\]"),
        (_ds(np.zeros((2, 3)), [-1, 1]), {}, "labels from -1 to 1"),
        (_ds(np.zeros((2, 3)), [0.5, 1.0]), {}, "float64 labels"),
    ],
)
def test_validate_errors_name_what_was_received(ds, kwargs, match):
    with pytest.raises(DataError, match=match) as info:
        validate(ds, **kwargs)
    assert info.value.hint


def test_negative_seed_is_a_usage_error():
    with pytest.raises(UsageError, match="seed"):
        load_dataset("sine", seed=-1)
    with pytest.raises(UsageError, match="seed"):
        split(load_dataset("digits"), seed=-1)
