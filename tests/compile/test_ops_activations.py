"""RELU and RELU6 int8 kernels vs TFLM over every int8 value and random quantization."""

from __future__ import annotations

import numpy as np
import pytest
from elementwise_kernels import call, qparams, run_tflm
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyflow.compile.ops import activations, cstruct
from tinyflow.tflite.writer import ModelBuilder

pytestmark = pytest.mark.firmware
ALL = np.arange(-128, 128, dtype=np.int8).reshape(2, 8, 16)


def tflm_out(op, qi, qo):
    mb = ModelBuilder()
    a, y = mb.tensor(ALL.shape, "int8", *qi), mb.tensor(ALL.shape, "int8", *qo)
    mb.op(op, [a], [y])
    return run_tflm(mb.build([a], [y]), [ALL])[0].reshape(ALL.shape)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_relu_matches_tflm(data):
    qi, qo = qparams(data.draw, st), qparams(data.draw, st)
    got, via_table = np.zeros(ALL.shape, np.int8), np.zeros(ALL.shape, np.int8)
    p = activations.prepare_relu(ALL.shape, qi, qo)
    assert call("tinyflow_relu_s8", cstruct.RELU.ctypes_value(p), ALL, got) == 0
    want = tflm_out("RELU", qi, qo)
    np.testing.assert_array_equal(got, want)
    assert call("tinyflow_lut_s8", np.asarray(activations.relu_table(p), np.int8), ALL, via_table, ALL.size) == 0
    np.testing.assert_array_equal(via_table, want)


def test_relu_scale_ratio_is_divided_in_double_as_tflm_does():
    """0.53033006 / 0.35355338 is 1.5 in float32 but 1.49999996 in double (what TFLM uses): each
    odd input then rounds down, not up (42 of 256 outputs differed before)."""
    qi, qo = (float(np.float32(1.5 * 2.0**-1.5)), 0), (float(np.float32(2.0**-1.5)), 0)
    got = np.zeros(ALL.shape, np.int8)
    assert (
        call("tinyflow_relu_s8", cstruct.RELU.ctypes_value(activations.prepare_relu(ALL.shape, qi, qo)), ALL, got) == 0
    )
    np.testing.assert_array_equal(got, tflm_out("RELU", qi, qo))


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_relu6_matches_tflm(data):
    qi = qparams(data.draw, st)
    got, via_table = np.zeros(ALL.shape, np.int8), np.zeros(ALL.shape, np.int8)
    p = activations.prepare_relu6(ALL.shape, qi)
    assert call("tinyflow_relu6_s8", cstruct.RELU6.ctypes_value(p), ALL, got) == 0
    want = tflm_out("RELU6", qi, qi)
    np.testing.assert_array_equal(got, want)
    assert call("tinyflow_lut_s8", np.asarray(activations.relu6_table(p), np.int8), ALL, via_table, ALL.size) == 0
    np.testing.assert_array_equal(via_table, want)
