"""MEAN int8 kernel vs TFLM: random shapes, axes (negative, repeated), keep_dims and quantization."""

from __future__ import annotations

import numpy as np
import pytest
from elementwise_kernels import call, qparams, rand_int, run_tflm
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyflow.compile.ops import cstruct, mean
from tinyflow.tflite.writer import ModelBuilder

pytestmark = pytest.mark.firmware


def run_mean(shape, axes, keep, qi, qo, seed):
    red = mean.resolve_axes(len(shape), axes)
    out = (
        [1 if d in red else n for d, n in enumerate(shape)]
        if keep
        else [n for d, n in enumerate(shape) if d not in red]
    )
    mb = ModelBuilder()
    a = mb.tensor(shape, "int8", *qi)
    ax = mb.tensor([len(axes)], "int32", data=axes)
    y = mb.tensor(out, "int8", *qo)
    mb.op("MEAN", [a, ax], [y], keep_dims=keep)
    x = rand_int(np.random.default_rng(seed), shape)
    want = run_tflm(mb.build([a], [y]), [x])[0]
    got = np.zeros(out, np.int8)
    assert call("tinyflow_mean_s8", cstruct.MEAN.ctypes_value(mean.prepare(shape, axes, qi, qo)), x, got) == 0
    np.testing.assert_array_equal(got, want.reshape(out))


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 7), min_size=1, max_size=5), keep=st.booleans(), data=st.data())
def test_mean_matches_tflm(shape, keep, data):
    rank = len(shape)
    axes = data.draw(st.lists(st.integers(-rank, rank - 1), min_size=1, max_size=rank))
    run_mean(shape, axes, keep, qparams(data.draw, st), qparams(data.draw, st), data.draw(st.integers(0, 2**31)))


@pytest.mark.parametrize("keep", [True, False])
def test_mean_global_pool_hw(keep):
    """The ResNet/MobileNet head: mean over H, W of an NHWC map."""
    run_mean([1, 7, 7, 32], [1, 2], keep, (0.05, -4), (0.02, 9), 3)
    run_mean([1, 12, 9, 8], [2, 1], keep, (0.1, 100), (0.1, 100), 4)


@pytest.mark.parametrize("ratio", [1e-9, 3e-4, 1.0, 300.0])
def test_mean_many_elements_and_extreme_rescale(ratio):
    """n = 4096: TFLM clamps the 1/n shift to 31 + output shift when the rescale is tiny."""
    run_mean([1, 64, 64, 2], [1, 2], True, (0.5, -7), (0.5 / ratio, 3), 5)
