"""The Cortex-M4 CONV_2D and FULLY_CONNECTED kernels' shape paths and requantization paths,
cross-built and run on QEMU (sim://qemu-m4): bit-identical to the TFLM reference kernels.

Each layer is its own branch of one model (one firmware build): pointwise depths that take the
register-blocked 2x2 kernel with and without its unrolled loop, odd channel counts, depths past
the widening buffer, multipliers and shifts inside and outside the fast requantization's range,
accumulators that saturate it, power-of-two scales, fused activations and extreme zero points."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import require_tool
from tinyflow.tflite.writer import ModelBuilder

pytestmark = [pytest.mark.arm, pytest.mark.qemu, pytest.mark.slow]


def _weights(mb, rng, shape, scales, qdim=0):
    return mb.tensor(
        shape,
        "int8",
        scale=[float(s) for s in scales],
        zero_point=[0] * len(scales),
        quantized_dimension=qdim,
        data=rng.integers(-127, 128, shape, dtype=np.int8),
    )


def _conv(
    mb,
    rng,
    ins,
    outs,
    hwc,
    oc,
    k=1,
    stride=1,
    pad="VALID",
    in_q=(0.05, -7),
    out_q=None,
    w_scales=None,
    bias=None,
    act="NONE",
    dil=1,
):
    """One CONV_2D branch: its own input, its own output."""
    h, w, c = hwc
    x = mb.tensor([1, h, w, c], "int8", scale=in_q[0], zero_point=in_q[1])
    ws = np.asarray(w_scales if w_scales is not None else rng.uniform(0.002, 0.02, oc))
    wt = _weights(mb, rng, [oc, k, k, c], ws)
    bv = np.asarray(bias if bias is not None else rng.integers(-3000, 3000, oc), dtype=np.int32)
    b = mb.tensor([oc], "int32", scale=list(ws * in_q[0]), zero_point=[0] * oc, data=bv)
    ek = (k - 1) * dil + 1
    oh = -(-h // stride) if pad == "SAME" else (h - ek) // stride + 1
    ow = -(-w // stride) if pad == "SAME" else (w - ek) // stride + 1
    oq = out_q or (float(rng.uniform(0.02, 0.08)), int(rng.integers(-20, 20)))
    y = mb.tensor([1, oh, ow, oc], "int8", scale=oq[0], zero_point=oq[1])
    opts = dict(padding=pad, stride_h=stride, stride_w=stride, dilation_h_factor=dil, dilation_w_factor=dil)
    mb.op("CONV_2D", [x, wt, b], [y], fused_activation_function=act, **opts)
    ins.append(x)
    outs.append(y)


def pointwise_model(seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    mb, ins, outs = ModelBuilder(), [], []
    _conv(mb, rng, ins, outs, (3, 3, 4), 2)  # one 4-deep step, no unrolled loop; 9 pixels: odd
    _conv(mb, rng, ins, outs, (4, 5, 8), 16, act="RELU")  # unrolled loop only
    _conv(mb, rng, ins, outs, (3, 5, 12), 7)  # step + loop, odd channels: exact tail
    _conv(mb, rng, ins, outs, (5, 5, 64), 6, stride=2, pad="SAME", act="RELU6")  # strided
    _conv(mb, rng, ins, outs, (2, 2, 256), 3)  # the widening buffer's full depth
    _conv(mb, rng, ins, outs, (2, 1, 260), 2)  # past it: the vector path
    _conv(mb, rng, ins, outs, (2, 2, 6), 4)  # depth not a multiple of 4: the vector path
    # Scales outside the fast path: a shift < -21 (tiny scale) and a shift > 0 (scale > 1).
    _conv(mb, rng, ins, outs, (3, 2, 16), 4, w_scales=[1e-9, 0.01, 0.01, 0.01])
    _conv(mb, rng, ins, outs, (3, 2, 16), 4, in_q=(0.5, 3), w_scales=[0.5, 0.01, 0.2, 0.01], out_q=(0.05, 0))
    # Power-of-two scales: multiplier exactly 2^30; zero points at the int8 ends.
    _conv(mb, rng, ins, outs, (3, 3, 8), 4, in_q=(0.5, -128), w_scales=[0.25, 0.125, 2**-10, 2**-20], out_q=(1.0, 127))
    # Tiny scales: shifts down to -31, and multiplier 0 with shift 0 (TFLM flushes below 2^-31).
    _conv(mb, rng, ins, outs, (3, 2, 16), 4, w_scales=[1e-12, 1e-9, 3e-8, 0.01], out_q=(1e-4, 9))
    # Accumulators beyond +-2^30: the doubling saturates, those blocks take the exact path.
    big = [2**31 - 1, -(2**31), 2**30, -(2**30) - 1, 2**30 - 1, -(2**30), 1_500_000_000, -1_500_000_000]
    _conv(mb, rng, ins, outs, (2, 2, 8), 8, bias=big, w_scales=[2**-9] * 8, in_q=(0.05, 0), out_q=(0.05, -128))
    _conv(mb, rng, ins, outs, (2, 2, 8), 8, bias=big, w_scales=[1e-4] * 8, in_q=(0.05, 5), out_q=(300.0, 0), act="RELU")
    _conv(mb, rng, ins, outs, (2, 2, 8), 8, bias=big, w_scales=[2e-8] * 8, in_q=(0.05, 5), out_q=(0.05, 1))
    return mb.build(ins, outs)


def window_model(seed=1) -> bytes:
    rng = np.random.default_rng(seed)
    mb, ins, outs = ModelBuilder(), [], []
    _conv(mb, rng, ins, outs, (9, 9, 3), 8, k=3, stride=2, pad="SAME", act="RELU6")  # 27 inputs: 3-tap tail
    _conv(mb, rng, ins, outs, (13, 6, 1), 6, k=4, stride=2, pad="SAME")  # 1-channel input, 16 inputs
    _conv(mb, rng, ins, outs, (5, 4, 16), 5, k=3, pad="SAME", act="RELU")  # widened straight; odd channels
    _conv(mb, rng, ins, outs, (4, 4, 32), 4, k=3, pad="SAME")  # 288: the buffer's full length
    _conv(mb, rng, ins, outs, (3, 3, 36), 2, k=3, pad="SAME")  # 324: past it, the row path
    _conv(mb, rng, ins, outs, (6, 5, 2), 3, k=3, pad="VALID")  # 18 inputs: 2-tap tail, odd channels
    _conv(mb, rng, ins, outs, (4, 4, 1), 4, k=2, pad="SAME", in_q=(0.05, 127), out_q=(0.03, -128))  # k_n = 4
    _conv(mb, rng, ins, outs, (7, 6, 4), 4, k=3, pad="SAME", dil=2)  # dilated taps
    _conv(mb, rng, ins, outs, (7, 7, 3), 2, k=2, pad="VALID", dil=3, stride=2)  # dilated, gathered
    _conv(mb, rng, ins, outs, (5, 5, 3), 3, k=1, pad="VALID")  # 3 inputs: too short, the vector path
    _conv(mb, rng, ins, outs, (5, 5, 3), 4, k=3, pad="SAME", w_scales=[1e-9, 0.01, 0.01, 0.01])  # exact path
    return mb.build(ins, outs)


def _fc(
    mb, rng, ins, outs, batches, depth, n_out, in_q=(0.05, -7), w_scale=0.01, out_q=(0.05, 3), bias=None, act="NONE"
):
    x = mb.tensor([batches, depth], "int8", scale=in_q[0], zero_point=in_q[1])
    w = mb.tensor(
        [n_out, depth], "int8", scale=w_scale, zero_point=0, data=rng.integers(-127, 128, (n_out, depth), dtype=np.int8)
    )
    bv = np.asarray(bias if bias is not None else rng.integers(-3000, 3000, n_out), dtype=np.int32)
    b = mb.tensor([n_out], "int32", scale=w_scale * in_q[0], zero_point=0, data=bv)
    y = mb.tensor([batches, n_out], "int8", scale=out_q[0], zero_point=out_q[1])
    mb.op("FULLY_CONNECTED", [x, w, b], [y], fused_activation_function=act)
    ins.append(x)
    outs.append(y)


def fc_model(seed=2) -> bytes:
    rng = np.random.default_rng(seed)
    mb, ins, outs = ModelBuilder(), [], []
    _fc(mb, rng, ins, outs, 1, 640, 12, w_scale=0.002)  # AD's first layer: unrolled loop
    _fc(mb, rng, ins, outs, 1, 12, 8, act="RELU")  # one step + one unrolled pair
    _fc(mb, rng, ins, outs, 2, 7, 6)  # batches; depth and rows with tails
    _fc(mb, rng, ins, outs, 1, 16, 4, w_scale=1e-9)  # shift < -21: the exact requantization
    _fc(mb, rng, ins, outs, 1, 16, 4, in_q=(0.5, 2), w_scale=0.5, out_q=(0.05, 0))  # shift > 0
    big = [2**31 - 1, -(2**31), 2**30, -(2**30) - 1, 2**30 - 1, -(2**30), 1_500_000_000, -1_500_000_000]
    _fc(mb, rng, ins, outs, 1, 8, 8, bias=big, w_scale=2**-9, in_q=(0.05, 0), out_q=(0.05, -128), act="RELU6")
    _fc(mb, rng, ins, outs, 1, 8, 8, bias=big, w_scale=2e-8, in_q=(0.05, 5), out_q=(0.05, 1))
    return mb.build(ins, outs)


def _feeds(m, rng):
    feeds = [rng.integers(-128, 128, m.tensors[i].shape, dtype=np.int8) for i in m.inputs]
    ends = [np.where(rng.random(m.tensors[i].shape) < 0.5, -128, 127).astype(np.int8) for i in m.inputs]
    return [feeds, ends]


def compare_on_qemu(firmware_model, model: bytes, samples, name: str, dsp: bool = True, label=None) -> None:
    """Run `samples` through `firmware_model` (model bytes or a CompiledModel) on sim://qemu-m4's
    firmware for nano33ble and assert every output equals TFLM's on `model`; `label(k)` names output k."""
    from tinyflow.build import arm
    from tinyflow.runtimes import tflm
    from tinyflow.targets.client import DeviceClient
    from tinyflow.targets.machines import qemu_m4 as sim_qemu
    from tinyflow.workflows.device import build_qemu_firmware

    require_tool(arm.COMPILER)
    require_tool(sim_qemu.QEMU)
    wants = tflm.run(model, samples)
    fw = build_qemu_firmware(firmware_model, "nano33ble", name=name, dsp=dsp)
    with sim_qemu.QemuPort(fw.elf, timeout=20.0) as port:
        client = DeviceClient(port)
        client.handshake()
        for sample, want in zip(samples, wants):
            got = client.infer(sample).outputs
            for k, (g, w) in enumerate(zip(got, want)):
                message = label(k) if label else f"output {k}"
                np.testing.assert_array_equal(np.asarray(g).ravel(), np.asarray(w).ravel(), err_msg=message)


def _check_on_qemu(model: bytes, name: str, dsp: bool = True) -> None:
    from tinyflow.tflite import read_model

    compare_on_qemu(model, model, _feeds(read_model(model), np.random.default_rng(7)), name, dsp)


def test_pointwise_kernels_are_bit_identical_to_tflm_on_qemu():
    _check_on_qemu(pointwise_model(), "pointwise")


def test_window_kernels_are_bit_identical_to_tflm_on_qemu():
    _check_on_qemu(window_model(), "window")


def test_fully_connected_kernel_is_bit_identical_to_tflm_on_qemu():
    _check_on_qemu(fc_model(), "fc")
