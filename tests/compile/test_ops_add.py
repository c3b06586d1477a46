"""ADD int8 kernel vs TFLM: randomized shapes, broadcasting, activations and quantization."""

from __future__ import annotations

import numpy as np
import pytest
from elementwise_kernels import call, qparams, rand_int, run_tflm
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyflow.compile.ops import add, cstruct
from tinyflow.tflite.writer import ModelBuilder

pytestmark = pytest.mark.firmware


@st.composite
def cases(draw):
    rank = draw(st.integers(1, 5))
    out = draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank))

    def sub():
        r = draw(st.integers(0, rank))
        return [d if draw(st.booleans()) else 1 for d in out[rank - r :]]

    s1, s2 = (sub(), list(out)) if draw(st.booleans()) else (list(out), sub())
    if draw(st.booleans()):
        s1, s2 = sub(), sub()
        out = list(np.broadcast_shapes(tuple(s1), tuple(s2))) or [1]
    return (
        s1,
        s2,
        out,
        qparams(draw, st),
        qparams(draw, st),
        qparams(draw, st),
        draw(st.sampled_from(["NONE", "RELU", "RELU6", "RELU_N1_TO_1", "TANH"])),
        draw(st.integers(0, 2**31)),
    )


def run_add(s1, s2, out, q1, q2, qo, act, seed):
    mb = ModelBuilder()
    a = mb.tensor(s1, "int8", *q1)
    b = mb.tensor(s2, "int8", *q2)
    y = mb.tensor(out, "int8", *qo)
    mb.op("ADD", [a, b], [y], fused_activation_function=act)
    rng = np.random.default_rng(seed)
    x1, x2 = rand_int(rng, s1), rand_int(rng, s2)
    want = run_tflm(mb.build([a, b], [y]), [x1, x2])[0]
    got, got_lut = np.zeros(out, np.int8), np.zeros(out, np.int8)
    p = add.prepare(q1, q2, qo, act)
    params = cstruct.ADD.ctypes_value(p)
    plan = cstruct.BROADCAST.ctypes_value(add.plan(s1, s2, out))
    assert call("tinyflow_add_s8", params, plan, x1, x2, got) == 0
    np.testing.assert_array_equal(got, want.reshape(out))
    t1, t2 = (np.asarray(t, np.int32) for t in add.tables(p))
    assert call("tinyflow_add_s8_lut", params, plan, t1, t2, x1, x2, got_lut) == 0
    np.testing.assert_array_equal(got_lut, want.reshape(out))


@settings(max_examples=40, deadline=None)
@given(cases())
def test_add_matches_tflm(case):
    run_add(*case)


def test_add_resnet_shape_same_params():
    q = (0.0478, -3)
    run_add([1, 8, 8, 64], [1, 8, 8, 64], [1, 8, 8, 64], q, (0.061, 12), (0.09, -20), "RELU", 7)
