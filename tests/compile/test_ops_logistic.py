"""LOGISTIC int8 kernel vs TFLM over every int8 input value and random input quantization."""

from __future__ import annotations

import numpy as np
import pytest
from elementwise_kernels import call, qparams, run_tflm
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyflow.compile.ops import cstruct, logistic
from tinyflow.compile.ops.gemmlowp import sigmoid_table
from tinyflow.tflite.writer import ModelBuilder

pytestmark = pytest.mark.firmware
ALL = np.arange(-128, 128, dtype=np.int8).reshape(1, 16, 16)


def check(op: str, fn: str, qi, qo, prepare):
    mb = ModelBuilder()
    a, y = mb.tensor(ALL.shape, "int8", *qi), mb.tensor(ALL.shape, "int8", *qo)
    mb.op(op, [a], [y])
    want = run_tflm(mb.build([a], [y]), [ALL])[0]
    got, via_table = np.zeros(ALL.shape, np.int8), np.zeros(ALL.shape, np.int8)
    p = prepare(ALL.shape, qi)
    assert call(fn, cstruct.SIGMOID.ctypes_value(p), ALL, got) == 0
    np.testing.assert_array_equal(got, want.reshape(ALL.shape))
    # The table the lowering bakes (host emulation of the same fixed point), through tinyflow_lut_s8.
    table = np.asarray(sigmoid_table(p, op.lower()), np.int8)
    assert call("tinyflow_lut_s8", table, ALL, via_table, ALL.size) == 0
    np.testing.assert_array_equal(via_table, want.reshape(ALL.shape))


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_logistic_matches_tflm(data):
    check("LOGISTIC", "tinyflow_logistic_s8", qparams(data.draw, st), (1 / 256, -128), logistic.prepare)


@pytest.mark.parametrize("scale", [1 / 16, 0.1, 0.5, 1.0, 2.0**-10])
def test_logistic_typical_scales(scale):
    check("LOGISTIC", "tinyflow_logistic_s8", (scale, 0), (1 / 256, -128), logistic.prepare)
