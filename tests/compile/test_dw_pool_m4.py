"""DEPTHWISE_CONV_2D and pooling on the Cortex-M4 kernels (sim://qemu-m4) and the portable ones,
bit-identical to TFLM on the shapes the DSP kernels specialise: 3x3 windows at every border with
strides 1 and 2, inputs narrower than the window, channel tails, depth multipliers 1, 4 and 8,
large filters, activation clamps, requantization shifts that leave the fast path; pooling
windows that do not divide the input, padding, rounding of negative sums."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import require_tool

pytestmark = [pytest.mark.arm, pytest.mark.qemu, pytest.mark.slow]


def _dw_model(shape, kh, kw, stride, pad, dm=1, act="NONE", seed=0, w_scale=(0.002, 0.02), zp_in=-7, big_bias=False):
    """One DEPTHWISE_CONV_2D with per-channel quantization and random weights and bias."""
    from tinyflow.tflite.writer import ModelBuilder

    rng = np.random.default_rng(seed)
    mb = ModelBuilder()
    ic = shape[3]
    oc = ic * dm
    x = mb.tensor(shape, "int8", scale=0.05, zero_point=zp_in)
    ws = rng.uniform(*w_scale, oc)
    w = mb.tensor(
        [1, kh, kw, oc],
        "int8",
        scale=list(ws),
        zero_point=[0] * oc,
        quantized_dimension=3,
        data=rng.integers(-128, 128, [1, kh, kw, oc], dtype=np.int8),
    )
    lim = 2**29 if big_bias else 3000
    b = mb.tensor(
        [oc], "int32", scale=list(ws * 0.05), zero_point=[0] * oc, data=rng.integers(-lim, lim, oc, dtype=np.int32)
    )
    oh = -(-shape[1] // stride) if pad == "SAME" else (shape[1] - kh) // stride + 1
    ow = -(-shape[2] // stride) if pad == "SAME" else (shape[2] - kw) // stride + 1
    y = mb.tensor([1, oh, ow, oc], "int8", scale=float(rng.uniform(0.02, 0.08)), zero_point=int(rng.integers(-20, 20)))
    mb.op(
        "DEPTHWISE_CONV_2D",
        [x, w, b],
        [y],
        padding=pad,
        stride_h=stride,
        stride_w=stride,
        depth_multiplier=dm,
        dilation_h_factor=1,
        dilation_w_factor=1,
        fused_activation_function=act,
    )
    return mb.build(inputs=[x], outputs=[y])


def _pool_model(op, shape, kh, kw, sh, sw, pad, act="NONE", zp=-7):
    """One pooling op; input and output share scale and zero point, as TFLM requires."""
    from tinyflow.tflite.writer import ModelBuilder

    mb = ModelBuilder()
    x = mb.tensor(shape, "int8", scale=0.05, zero_point=zp)
    oh = -(-shape[1] // sh) if pad == "SAME" else (shape[1] - kh) // sh + 1
    ow = -(-shape[2] // sw) if pad == "SAME" else (shape[2] - kw) // sw + 1
    y = mb.tensor([1, oh, ow, shape[3]], "int8", scale=0.05, zero_point=zp)
    mb.op(
        op,
        [x],
        [y],
        padding=pad,
        stride_h=sh,
        stride_w=sw,
        filter_height=kh,
        filter_width=kw,
        fused_activation_function=act,
    )
    return mb.build(inputs=[x], outputs=[y])


def _check(model, shape, dsp, name, inputs=None):
    from tinyflow.build import arm
    from tinyflow.runtimes import tflm
    from tinyflow.targets.client import DeviceClient
    from tinyflow.targets.machines import qemu_m4 as sim_qemu
    from tinyflow.workflows.device import build_qemu_firmware

    require_tool(arm.COMPILER)
    require_tool(sim_qemu.QEMU)
    if inputs is None:
        inputs = [np.random.default_rng(s).integers(-128, 128, shape, dtype=np.int8) for s in range(2)]
    wants = tflm.run(model, inputs)
    fw = build_qemu_firmware(model, "nano33ble", name=name, dsp=dsp)
    with sim_qemu.QemuPort(fw.elf, timeout=20.0) as port:
        client = DeviceClient(port)
        client.handshake()
        for x, want in zip(inputs, wants):
            got = client.infer([x]).outputs[0]
            np.testing.assert_array_equal(np.asarray(got).ravel(), want[0].ravel())


DW_CASES = {
    "3x3_s1_same_c8": dict(shape=[1, 7, 6, 8], kh=3, kw=3, stride=1, pad="SAME"),
    "3x3_s2_same_odd": dict(shape=[1, 9, 7, 8], kh=3, kw=3, stride=2, pad="SAME", act="RELU6"),
    "3x3_s2_same_even": dict(shape=[1, 8, 10, 4], kh=3, kw=3, stride=2, pad="SAME", act="RELU"),
    "3x3_s1_valid_wide": dict(shape=[1, 4, 21, 12], kh=3, kw=3, stride=1, pad="VALID"),
    "3x3_narrow_input": dict(shape=[1, 2, 5, 8], kh=3, kw=3, stride=1, pad="SAME"),
    "3x3_channel_tail": dict(shape=[1, 5, 5, 6], kh=3, kw=3, stride=1, pad="SAME"),
    "5x3_dm1": dict(shape=[1, 6, 5, 4], kh=5, kw=3, stride=1, pad="SAME", act="RELU"),
    "dm4_3x3_s2": dict(shape=[1, 9, 9, 1], kh=3, kw=3, stride=2, pad="SAME", dm=4),
    "dm8_3x3_s2_relu6": dict(shape=[1, 10, 9, 2], kh=3, kw=3, stride=2, pad="SAME", dm=8, act="RELU6"),
    "dm8_10x8_s2": dict(shape=[1, 13, 12, 1], kh=10, kw=8, stride=2, pad="SAME", dm=8, act="RELU"),
    "shift_left": dict(shape=[1, 5, 5, 8], kh=3, kw=3, stride=1, pad="SAME", w_scale=(2.0, 4.0)),
    "big_bias": dict(shape=[1, 5, 5, 8], kh=3, kw=3, stride=1, pad="SAME", big_bias=True),
}


@pytest.mark.parametrize("dsp", [True, False], ids=["cortex_m4", "portable"])
@pytest.mark.parametrize("case", sorted(DW_CASES))
def test_depthwise_matches_tflm(case, dsp):
    kw = DW_CASES[case]
    _check(_dw_model(**kw), kw["shape"], dsp, f"dw-{case}")


POOL_CASES = {
    "avg_kws_global": dict(op="AVERAGE_POOL_2D", shape=[1, 25, 5, 64], kh=25, kw=5, sh=25, sw=5, pad="VALID"),
    "avg_3x3_s2_on_3x3": dict(op="AVERAGE_POOL_2D", shape=[1, 3, 3, 16], kh=3, kw=3, sh=2, sw=2, pad="VALID"),
    "avg_same_uneven": dict(op="AVERAGE_POOL_2D", shape=[1, 7, 5, 8], kh=3, kw=2, sh=2, sw=2, pad="SAME"),
    "avg_channel_tail_relu6": dict(
        op="AVERAGE_POOL_2D", shape=[1, 6, 6, 7], kh=3, kw=3, sh=1, sw=1, pad="SAME", act="RELU6"
    ),
    "avg_window_over_255": dict(op="AVERAGE_POOL_2D", shape=[1, 20, 20, 4], kh=20, kw=20, sh=1, sw=1, pad="VALID"),
    "max_same_relu": dict(op="MAX_POOL_2D", shape=[1, 7, 6, 12], kh=3, kw=3, sh=2, sw=2, pad="SAME", act="RELU"),
    "max_valid_tail": dict(op="MAX_POOL_2D", shape=[1, 5, 5, 6], kh=2, kw=2, sh=2, sw=2, pad="VALID"),
}


@pytest.mark.parametrize("dsp", [True, False], ids=["cortex_m4", "portable"])
@pytest.mark.parametrize("case", sorted(POOL_CASES))
def test_pooling_matches_tflm(case, dsp):
    kw = dict(POOL_CASES[case])
    shape = kw["shape"]
    rng = np.random.default_rng(3)
    # Full-range inputs, and mostly negative ones: sums whose rounding goes away from zero.
    inputs = [rng.integers(-128, 128, shape, dtype=np.int8), rng.integers(-128, -90, shape, dtype=np.int8)]
    _check(_pool_model(**kw), shape, dsp, f"pool-{case}", inputs=inputs)
