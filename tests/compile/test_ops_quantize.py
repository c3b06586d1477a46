"""QUANTIZE (float -> int, int -> int requantize) and DEQUANTIZE kernels vs TFLM."""

from __future__ import annotations

import numpy as np
import pytest
from elementwise_kernels import call, qparams, rand_int, run_tflm
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyflow.compile.ops import cstruct, dequantize, quantize
from tinyflow.errors import ModelError
from tinyflow.tflite.writer import ModelBuilder

pytestmark = pytest.mark.firmware
DT = {"int8": 9, "uint8": 3, "int16": 7, "int32": 2}  # TINYFLOW_DTYPE_* (model.h)


def q_for(draw, dtype):
    if dtype in ("int16", "int32"):  # TFLM's int16 activations are symmetric
        s, _ = qparams(draw, st)
        return s, draw(st.sampled_from([0, 0, 5, -7])) if dtype == "int32" else 0
    return qparams(draw, st, dtype)


@settings(max_examples=40, deadline=None)
@given(
    pair=st.sampled_from(sorted(quantize.REQUANTIZE_PAIRS)),
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=4),
    data=st.data(),
)
def test_requantize_matches_tflm(pair, shape, data):
    din, dout = pair
    qi, qo = q_for(data.draw, din), q_for(data.draw, dout)
    mb = ModelBuilder()
    a, y = mb.tensor(shape, din, *qi), mb.tensor(shape, dout, *qo)
    mb.op("QUANTIZE", [a], [y])
    x = rand_int(np.random.default_rng(data.draw(st.integers(0, 2**31))), shape, din)
    want = run_tflm(mb.build([a], [y]), [x])[0]
    p = quantize.prepare(shape, din, dout, qi, qo)
    got = np.zeros(shape, dout)
    assert call("tinyflow_requantize", cstruct.QUANTIZE.ctypes_value(p), DT[din], x, DT[dout], got) == 0
    np.testing.assert_array_equal(got, want.reshape(shape))
    if din == dout == "int8":  # the table the lowering uses for large tensors
        via_table = np.zeros(shape, np.int8)
        assert call("tinyflow_lut_s8", np.asarray(quantize.requantize_table(p), np.int8), x, via_table, x.size) == 0
        np.testing.assert_array_equal(via_table, want.reshape(shape))


@settings(max_examples=30, deadline=None)
@given(
    dout=st.sampled_from(["int8", "int16"]), shape=st.lists(st.integers(1, 8), min_size=1, max_size=3), data=st.data()
)
def test_quantize_float_matches_tflm(dout, shape, data):
    qo = q_for(data.draw, dout)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    x = (rng.standard_normal(shape) * qo[0] * rng.choice([10, 100, 300])).astype(np.float32)
    x.flat[0] = np.float32(qo[0]) * 2.5  # a tie: TFLM rounds halves away from zero
    mb = ModelBuilder()
    a, y = mb.tensor(shape, "float32"), mb.tensor(shape, dout, *qo)
    mb.op("QUANTIZE", [a], [y])
    want = run_tflm(mb.build([a], [y]), [x])[0]
    got = np.zeros(shape, dout)
    p = quantize.prepare(shape, "float32", dout, None, qo)
    assert call("tinyflow_quantize_f32", cstruct.QUANTIZE.ctypes_value(p), x, DT[dout], got) == 0
    np.testing.assert_array_equal(got, want.reshape(shape))


@settings(max_examples=30, deadline=None)
@given(
    din=st.sampled_from(["int8", "int16"]), shape=st.lists(st.integers(1, 8), min_size=1, max_size=3), data=st.data()
)
def test_dequantize_matches_tflm_bitwise(din, shape, data):
    qi = q_for(data.draw, din)
    mb = ModelBuilder()
    a, y = mb.tensor(shape, din, *qi), mb.tensor(shape, "float32")
    mb.op("DEQUANTIZE", [a], [y])
    x = rand_int(np.random.default_rng(data.draw(st.integers(0, 2**31))), shape, din)
    want = run_tflm(mb.build([a], [y]), [x])[0]
    got = np.zeros(shape, np.float32)
    p = dequantize.prepare(shape, din, qi)
    assert call("tinyflow_dequantize", cstruct.DEQUANTIZE.ctypes_value(p), DT[din], x, got) == 0
    np.testing.assert_array_equal(got.view(np.int32), want.reshape(shape).view(np.int32))


def test_unsupported_pairs_are_model_errors():
    with pytest.raises(ModelError, match="float32 -> int32"):
        quantize.prepare([2], "float32", "int32", None, (0.1, 0))
    with pytest.raises(ModelError, match="uint8 -> int16"):
        quantize.prepare([2], "uint8", "int16", (0.1, 0), (0.1, 0))
