"""SOFTMAX int8 -> int8/int16 kernel vs TFLM: randomized shapes, beta and input quantization."""

from __future__ import annotations

import numpy as np
import pytest
from elementwise_kernels import call, qparams, rand_int, run_tflm
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyflow.compile.ops import cstruct, softmax
from tinyflow.errors import ModelError
from tinyflow.tflite.writer import ModelBuilder

pytestmark = pytest.mark.firmware
OUT_Q = {"int8": (1 / 256, -128), "int16": (1 / 65536, -32768)}


def run_softmax(shape, beta, qi, out_dtype, x):
    mb = ModelBuilder()
    a, y = mb.tensor(shape, "int8", *qi), mb.tensor(shape, out_dtype, *OUT_Q[out_dtype])
    mb.op("SOFTMAX", [a], [y], beta=beta)
    want = run_tflm(mb.build([a], [y]), [x])[0]
    got = np.zeros(shape, out_dtype)
    params = cstruct.SOFTMAX.ctypes_value(softmax.prepare(shape, beta, qi, OUT_Q[out_dtype], out_dtype))
    fn = "tinyflow_softmax_s8" if out_dtype == "int8" else "tinyflow_softmax_s8_s16"
    assert call(fn, params, x, got) == 0
    np.testing.assert_array_equal(got, want.reshape(shape))


@settings(max_examples=50, deadline=None)
@given(
    shape=st.lists(st.integers(1, 12), min_size=1, max_size=4),
    beta=st.sampled_from([1.0, 0.5, 2.0, 0.137]),
    out_dtype=st.sampled_from(["int8", "int16"]),
    data=st.data(),
)
def test_softmax_matches_tflm(shape, beta, out_dtype, data):
    qi = qparams(data.draw, st)
    x = rand_int(np.random.default_rng(data.draw(st.integers(0, 2**31))), shape)
    run_softmax(shape, beta, qi, out_dtype, x)


@pytest.mark.parametrize("scale", [1e-3, 0.0390625, 0.25, 4.0, 64.0, 3e4])
def test_softmax_extremes(scale):
    """Rows with one spike, all-equal rows and the full int8 range."""
    x = np.array([[127] + [-128] * 9, [5] * 10, list(range(-128, 128, 26))], dtype=np.int8)
    run_softmax(list(x.shape), 1.0, (scale, 3), "int8", x)


def test_softmax_rejects_nonstandard_output():
    with pytest.raises(ModelError, match="zero point -128"):
        softmax.prepare([1, 4], 1.0, (0.1, 0), (1 / 256, 0), "int8")
