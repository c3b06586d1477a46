"""Samples made on demand: a lazy sequence, and the seeded random inputs behind `random:N`.

Sample i of `random_samples` is seeded by (seed, i) alone, so it is the same whatever the count
is; nothing is made until a sample is asked for, so a million samples cost nothing up front.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence

import numpy as np


class Samples(Sequence):
    """`count` samples, each made by `make(i)` when it is asked for (never all in memory)."""

    def __init__(self, count: int, make: Callable[[int], list[np.ndarray]]):
        self.count, self.make = count, make

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.count))]
        i = operator.index(i)
        if i < 0:
            i += self.count
        if not 0 <= i < self.count:
            raise IndexError(f"sample {i} of {self.count}")
        return self.make(i)


def random_samples(count: int, inputs: Sequence, seed: int = 0) -> Samples:
    """`count` random samples, each one array per input (anything with `shape` and `dtype`).

    Integer inputs take values over the dtype's whole range; float inputs are standard normal.
    """
    return Samples(count, lambda i: random_sample(inputs, seed, i))


def random_sample(inputs: Sequence, seed: int, i: int) -> list[np.ndarray]:
    """Sample `i`: one array per input, seeded by (seed, i) alone."""
    rng = np.random.default_rng([seed, i])
    sample = []
    for s in inputs:
        dtype = np.dtype(s.dtype)
        if dtype.kind == "f":
            sample.append(rng.standard_normal(s.shape).astype(dtype))
        else:
            info = np.iinfo(dtype)
            sample.append(rng.integers(info.min, int(info.max) + 1, size=s.shape, dtype=dtype))
    return sample
