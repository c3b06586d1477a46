"""tinyflow.data.samples: lazy samples and the seeded random inputs of random:N."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from tinyflow.data import Samples, random_samples


@dataclass
class _Input:
    shape: tuple
    dtype: np.dtype


def test_samples_are_made_only_when_asked():
    made = []
    samples = Samples(3, lambda i: made.append(i) or [np.full(2, i)])
    assert len(samples) == 3 and made == []
    assert samples[-1][0].tolist() == [2, 2] and made == [2]
    assert [s[0][0] for s in samples[0:2]] == [0, 1]
    with pytest.raises(IndexError, match="sample 3 of 3"):
        samples[3]


def test_random_samples_cover_the_dtype_and_depend_only_on_seed_and_index():
    inputs = [_Input((1, 400), np.dtype(np.int8)), _Input((2,), np.dtype(np.float32))]
    few, many = random_samples(2, inputs, seed=5), random_samples(10**6, inputs, seed=5)
    assert all(np.array_equal(a, b) for a, b in zip(few[1], many[1]))
    assert not np.array_equal(few[1][0], random_samples(2, inputs, seed=6)[1][0])
    q, f = many[999_999]
    assert q.dtype == np.int8 and q.shape == (1, 400) and q.min() < -100 and q.max() > 100
    assert f.dtype == np.float32 and f.shape == (2,)
