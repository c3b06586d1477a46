"""PAD / PADV2 kernel vs TFLM: random shapes, paddings, dtypes and constants."""

from __future__ import annotations

import numpy as np
import pytest
from elementwise_kernels import call, qparams, rand_int, run_tflm
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyflow.compile.ops import cstruct, pad
from tinyflow.tflite.writer import ModelBuilder

pytestmark = pytest.mark.firmware


@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=4),
    dtype=st.sampled_from(["int8", "float32", "int16"]),
    v2=st.booleans(),
    data=st.data(),
)
def test_pad_matches_tflm(shape, dtype, v2, data):
    pads = [[data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))] for _ in shape]
    q = qparams(data.draw, st) if dtype == "int8" else ((0.01, 0) if dtype == "int16" else (None, None))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    x = rand_int(rng, shape, dtype) if dtype != "float32" else rng.standard_normal(shape).astype(np.float32)
    out_shape = [d + a + b for d, (a, b) in zip(shape, pads)]
    mb = ModelBuilder()
    a = mb.tensor(shape, dtype, *q)
    pt = mb.tensor([len(shape), 2], "int32", data=pads)
    y = mb.tensor(out_shape, dtype, *q)
    constant = None
    if v2:
        constant = data.draw(st.integers(-128, 127)) if dtype != "float32" else 1.5
        c = mb.tensor([1], dtype, *q, data=[constant])
        mb.op("PADV2", [a, pt, c], [y])
    else:
        mb.op("PAD", [a, pt], [y])
    want = run_tflm(mb.build([a], [y]), [x])[0]
    p = pad.prepare(shape, pads, dtype, constant, q[1] or 0)
    got = np.zeros(out_shape, dtype)
    assert call("tinyflow_pad", cstruct.PAD.ctypes_value(p), x, got) == 0
    np.testing.assert_array_equal(got, want.reshape(out_shape))
