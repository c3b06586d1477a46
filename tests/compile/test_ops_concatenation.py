"""CONCATENATION kernel vs TFLM along any axis; requantizing inputs vs TFLite's float formula."""

from __future__ import annotations

import numpy as np
import pytest
from elementwise_kernels import call, qparams, rand_int, run_tflm
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyflow.compile.ops import concatenation, cstruct
from tinyflow.tflite.writer import ModelBuilder

pytestmark = pytest.mark.firmware


def pointers(arrays):
    import ctypes

    return (ctypes.c_void_p * len(arrays))(*[a.ctypes.data for a in arrays])


@st.composite
def cases(draw):
    rank = draw(st.integers(1, 5))
    base = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    axis = draw(st.integers(-rank, rank - 1))
    n = draw(st.integers(1, 4))
    shapes = []
    for _ in range(n):
        s = list(base)
        s[axis] = draw(st.integers(1, 4))
        shapes.append(s)
    return shapes, axis, draw(st.sampled_from(["int8", "int16", "float32"])), draw(st.integers(0, 2**31))


@settings(max_examples=40, deadline=None)
@given(cases(), st.data())
def test_concatenation_matches_tflm(case, data):
    shapes, axis, dtype, seed = case
    q = qparams(data.draw, st) if dtype == "int8" else ((0.01, 0) if dtype == "int16" else (None, None))
    rng = np.random.default_rng(seed)
    xs = [rand_int(rng, s, dtype) if dtype != "float32" else rng.standard_normal(s).astype(np.float32) for s in shapes]
    out_shape = list(np.concatenate(xs, axis=axis).shape)
    mb = ModelBuilder()
    ins = [mb.tensor(s, dtype, *q) for s in shapes]
    y = mb.tensor(out_shape, dtype, *q)
    mb.op("CONCATENATION", ins, [y], axis=axis)
    want = run_tflm(mb.build(ins, [y]), xs)[0]
    p = concatenation.prepare(shapes, axis, np.dtype(dtype).itemsize, [q] * len(shapes), q)
    assert p["requant"] is None
    got = np.zeros(out_shape, dtype)
    assert call("tinyflow_concatenation", cstruct.CONCAT.ctypes_value(p), pointers(xs), got) == 0
    np.testing.assert_array_equal(got, want.reshape(out_shape))


@settings(max_examples=20, deadline=None)
@given(cases(), st.data())
def test_concatenation_requantizes_mixed_parameters(case, data):
    """TFLM refuses int8 inputs whose parameters differ from the output's; tinyflow requantizes
    them with TFLite's ConcatenationWithScaling formula (float32, round half away)."""
    shapes, axis, _, seed = case
    qs = [qparams(data.draw, st) for _ in shapes]
    qo = qparams(data.draw, st)
    rng = np.random.default_rng(seed)
    xs = [rand_int(rng, s) for s in shapes]
    inv = np.float32(1) / np.float32(qo[0])
    parts = []
    for x, (s, z) in zip(xs, qs):
        sc = np.float32(s) * inv
        v = x.astype(np.float32) * sc + (np.float32(-z) * sc)
        parts.append(np.clip(np.sign(v) * np.floor(np.abs(v) + np.float32(0.5)) + qo[1], -128, 127).astype(np.int8))
    want = np.concatenate(parts, axis=axis)
    p = concatenation.prepare(shapes, axis, 1, qs, qo)
    if p["requant"] is None:
        return
    got = np.zeros(want.shape, np.int8)
    assert (
        call(
            "tinyflow_concatenation_requant_s8",
            cstruct.CONCAT.ctypes_value(p),
            cstruct.CONCAT_REQUANT.ctypes_value(p["requant"]),
            pointers(xs),
            got,
        )
        == 0
    )
    np.testing.assert_array_equal(got, want)
