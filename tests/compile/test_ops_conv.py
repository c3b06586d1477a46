"""CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE/MAX_POOL_2D compiled vs TFLM, bit-exact, over
randomized shapes, strides, paddings, dilations, activations and quantization (single-op models).

Each example compiles a model to C, so a single-op model whose input dies at the op also
exercises the planner's raster-order overlap of output over input."""

from __future__ import annotations

import numpy as np
import pytest
from compiled_helpers import compare_with_tflm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinyflow.compile.quant import out_size
from tinyflow.tflite.writer import ModelBuilder

pytestmark = pytest.mark.firmware
ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def q(draw, lo=-7.0, hi=0.0):
    return float(np.float32(draw(st.floats(1.0, 2.0)) * 2.0 ** draw(st.floats(lo, hi)))), draw(st.integers(-128, 127))


def weights(draw, rng, shape, channels):
    w = rng.integers(-127, 128, size=shape).astype(np.int8)
    per_channel = draw(st.booleans())
    scales = [float(np.float32(s)) for s in rng.uniform(0.001, 0.05, size=channels if per_channel else 1)]
    bias = rng.integers(-20000, 20000, size=channels).astype(np.int32)
    return w, scales, bias


@st.composite
def conv_cases(draw, depthwise: bool):
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    b, h, w = draw(st.integers(1, 2)), draw(st.integers(1, 9)), draw(st.integers(1, 9))
    ic = draw(st.integers(1, 6))
    fh, fw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw, dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    pad = draw(st.sampled_from(["SAME", "VALID"]))
    oh, ow = out_size(pad, h, fh, sh, dh), out_size(pad, w, fw, sw, dw)
    if oh < 1 or ow < 1:
        pad, fh, fw, dh, dw = "SAME", 1, 1, 1, 1
        oh, ow = out_size(pad, h, 1, sh), out_size(pad, w, 1, sw)
    mult = draw(st.integers(1, 3)) if depthwise else 1
    oc = ic * mult if depthwise else draw(st.integers(1, 8))
    fshape = [1, fh, fw, oc] if depthwise else [oc, fh, fw, ic]
    wts, scales, bias = weights(draw, rng, fshape, oc)
    (si, zi), (so, zo) = q(draw, -6, 0), q(draw, -6, 2)
    mb = ModelBuilder()
    x = mb.tensor([b, h, w, ic], "int8", si, zi)
    f = mb.tensor(fshape, "int8", scales, [0] * len(scales), data=wts, quantized_dimension=3 if depthwise else 0)
    # TFLM's Python runtime segfaults on DEPTHWISE_CONV_2D without a bias, so depthwise always has one.
    has_bias = depthwise or draw(st.booleans())
    bi = mb.tensor([oc], "int32", [si * s for s in scales], [0] * len(scales), data=bias) if has_bias else -1
    y = mb.tensor([b, oh, ow, oc], "int8", so, zo)
    opts = dict(
        padding=pad,
        stride_h=sh,
        stride_w=sw,
        dilation_h_factor=dh,
        dilation_w_factor=dw,
        fused_activation_function=draw(st.sampled_from(ACTS)),
    )
    if depthwise:
        opts["depth_multiplier"] = mult
    mb.op("DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", [x, f, bi], [y], **opts)
    return mb.build([x], [y])


@SETTINGS
@given(conv_cases(depthwise=False))
def test_conv_2d_matches_tflm(model):
    compare_with_tflm(model, samples=2)


@SETTINGS
@given(conv_cases(depthwise=True))
def test_depthwise_conv_2d_matches_tflm(model):
    compare_with_tflm(model, samples=2)


@st.composite
def fc_cases(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    batches, depth, n_out = draw(st.integers(1, 3)), draw(st.integers(1, 40)), draw(st.integers(1, 12))
    wts, scales, bias = weights(draw, rng, [n_out, depth], n_out)  # per-tensor or per-channel
    (si, zi), (so, zo) = q(draw, -6, 0), q(draw, -6, 2)
    mb = ModelBuilder()
    x = mb.tensor([batches, depth], "int8", si, zi)
    f = mb.tensor([n_out, depth], "int8", scales, [0] * len(scales), data=wts)
    bi = (
        mb.tensor([n_out], "int32", [si * s for s in scales], [0] * len(scales), data=bias)
        if draw(st.booleans())
        else -1
    )
    y = mb.tensor([batches, n_out], "int8", so, zo)
    mb.op("FULLY_CONNECTED", [x, f, bi], [y], fused_activation_function=draw(st.sampled_from(ACTS)))
    return mb.build([x], [y])


@SETTINGS
@given(fc_cases())
def test_fully_connected_matches_tflm(model):
    compare_with_tflm(model, samples=2)


@st.composite
def pool_cases(draw):
    b, h, w, c = draw(st.integers(1, 2)), draw(st.integers(1, 9)), draw(st.integers(1, 9)), draw(st.integers(1, 5))
    fh, fw, sh, sw = (draw(st.integers(1, 4)) for _ in range(4))
    pad = draw(st.sampled_from(["SAME", "VALID"]))
    oh, ow = out_size(pad, h, fh, sh), out_size(pad, w, fw, sw)
    if oh < 1 or ow < 1:
        pad = "SAME"
        oh, ow = out_size(pad, h, fh, sh), out_size(pad, w, fw, sw)
    si, zi = q(draw, -6, 0)
    mb = ModelBuilder()
    x = mb.tensor([b, h, w, c], "int8", si, zi)
    y = mb.tensor([b, oh, ow, c], "int8", si, zi)
    mb.op(
        draw(st.sampled_from(["AVERAGE_POOL_2D", "MAX_POOL_2D"])),
        [x],
        [y],
        padding=pad,
        stride_h=sh,
        stride_w=sw,
        filter_height=fh,
        filter_width=fw,
        fused_activation_function=draw(st.sampled_from(ACTS)),
    )
    return mb.build([x], [y])


@SETTINGS
@given(pool_cases())
def test_pooling_matches_tflm(model):
    compare_with_tflm(model, samples=2)


def test_conv_chain_with_overlap_matches_tflm():
    """Three stride-1 convs in a row: every output overlaps its dying input in the plan."""
    rng = np.random.default_rng(3)
    mb = ModelBuilder()
    x = mb.tensor([1, 12, 10, 4], "int8", 0.05, -3)
    cur, ch = x, 4
    for k, oc in enumerate([8, 3, 6]):
        f = mb.tensor([oc, 3, 3, ch], "int8", [0.01] * oc, [0] * oc, data=rng.integers(-127, 128, (oc, 3, 3, ch)))
        bi = mb.tensor([oc], "int32", [0.0005] * oc, [0] * oc, data=rng.integers(-500, 500, oc))
        y = mb.tensor([1, 12, 10, oc], "int8", 0.04 + 0.01 * k, 5 - k)
        mb.op("CONV_2D", [cur, f, bi], [y], padding="SAME", fused_activation_function="RELU")
        cur, ch = y, oc
    data = mb.build([x], [cur])
    arena = compare_with_tflm(data, samples=3)
    assert arena < 12 * 10 * (8 + 6)  # less than the two largest neighbours side by side
