"""TANH int8 kernel vs TFLM over every int8 input value and random input quantization."""

from __future__ import annotations

import pytest
from elementwise_kernels import qparams
from hypothesis import given, settings
from hypothesis import strategies as st
from test_ops_logistic import check

from tinyflow.compile.ops import tanh

pytestmark = pytest.mark.firmware


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_tanh_matches_tflm(data):
    check("TANH", "tinyflow_tanh_s8", qparams(data.draw, st), (1 / 128, 0), tanh.prepare)


@pytest.mark.parametrize("scale", [1 / 32, 0.1, 0.75, 2.0**-9])
def test_tanh_typical_scales(scale):
    check("TANH", "tinyflow_tanh_s8", (scale, -5), (1 / 128, 0), tanh.prepare)
