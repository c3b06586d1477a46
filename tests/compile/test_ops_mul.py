"""MUL int8 kernel vs TFLM: randomized shapes, broadcasting, activations and quantization."""

from __future__ import annotations

import numpy as np
import pytest
from elementwise_kernels import call, qparams, rand_int, run_tflm
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyflow.compile.ops import cstruct, mul
from tinyflow.tflite.writer import ModelBuilder

pytestmark = pytest.mark.firmware


@st.composite
def cases(draw):
    rank = draw(st.integers(1, 6))
    out = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    s1 = [d if draw(st.booleans()) else 1 for d in out]
    s2 = [d if draw(st.booleans()) else 1 for d in out][draw(st.integers(0, rank)) :]
    out = list(np.broadcast_shapes(tuple(s1), tuple(s2)))
    return (
        s1,
        s2,
        out,
        qparams(draw, st),
        qparams(draw, st),
        qparams(draw, st),
        draw(st.sampled_from(["NONE", "RELU", "RELU6"])),
        draw(st.integers(0, 2**31)),
    )


@settings(max_examples=40, deadline=None)
@given(cases())
def test_mul_matches_tflm(case):
    s1, s2, out, q1, q2, qo, act, seed = case
    mb = ModelBuilder()
    a, b, y = mb.tensor(s1, "int8", *q1), mb.tensor(s2, "int8", *q2), mb.tensor(out, "int8", *qo)
    mb.op("MUL", [a, b], [y], fused_activation_function=act)
    rng = np.random.default_rng(seed)
    x1, x2 = rand_int(rng, s1), rand_int(rng, s2)
    want = run_tflm(mb.build([a, b], [y]), [x1, x2])[0]
    got = np.zeros(out, np.int8)
    assert (
        call(
            "tinyflow_mul_s8",
            cstruct.MUL.ctypes_value(mul.prepare(q1, q2, qo, act)),
            cstruct.BROADCAST.ctypes_value(mul.plan(s1, s2, out)),
            x1,
            x2,
            got,
        )
        == 0
    )
    np.testing.assert_array_equal(got, want.reshape(out))
