"""CONV_2D kxk on 1-4 input channels through the Cortex-M4 kernel of
firmware/kernels/cortex_m4/conv_small_cin.h, cross-built and run on QEMU (sim://qemu-m4):
bit-identical to the TFLM reference kernels on random shapes.

Each layer is its own branch of one model (one firmware build): 1-4 input channels, filters from
1x2 to 10x4, strides 1-2 apart per axis, SAME and VALID padding, input zero points at the int8 ends,
per-channel scales with multipliers near 2^31 and exponents up to 20, every fused activation (and
ReLU on a -128 zero point, the kernel's lean requantization), output channel counts that are odd or
not a multiple of 4, windows longer than the unrolled sequence (its C path), pixel counts that leave
one or two pixels of the last three. The test checks the compiler gave the kernel its table for
the layers it should, so that a wrong table, slot order or kernel fails on the outputs."""

from __future__ import annotations

import numpy as np
import pytest

from tinyflow.compile.ops.conv_small import SCT_MAGIC
from tinyflow.tflite.writer import ModelBuilder

pytestmark = [pytest.mark.arm, pytest.mark.qemu, pytest.mark.slow]

ACTS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def _out(n, k, s, pad):
    return -(-n // s) if pad == "SAME" else (n - k) // s + 1


def _layer(mb, rng, ins, outs, hwc, oc, k, strides, pad, in_q, out_q, w_scales, act, bias=None):
    (h, w, c), (kh, kw), (sh, sw) = hwc, k, strides
    x = mb.tensor([1, h, w, c], "int8", scale=in_q[0], zero_point=in_q[1])
    ws = np.asarray(w_scales, dtype=np.float64)
    wt = mb.tensor(
        [oc, kh, kw, c],
        "int8",
        scale=[float(v) for v in ws],
        zero_point=[0] * oc,
        data=rng.integers(-128, 128, (oc, kh, kw, c), dtype=np.int8),
    )
    bv = np.asarray(bias if bias is not None else rng.integers(-20000, 20000, oc), dtype=np.int32)
    b = mb.tensor([oc], "int32", scale=[float(v) for v in ws * in_q[0]], zero_point=[0] * oc, data=bv)
    y = mb.tensor([1, _out(h, kh, sh, pad), _out(w, kw, sw, pad), oc], "int8", scale=out_q[0], zero_point=out_q[1])
    mb.op("CONV_2D", [x, wt, b], [y], padding=pad, stride_h=sh, stride_w=sw, fused_activation_function=act)
    ins.append(x)
    outs.append(y)


def random_model(seed: int, layers: int) -> bytes:
    """Random small-input-channel layers, every one eligible for the kernel's table."""
    rng = np.random.default_rng(seed)
    mb, ins, outs = ModelBuilder(), [], []
    for i in range(layers):
        c = int(rng.integers(1, 5))
        kh, kw = int(rng.integers(1, 11)), int(rng.integers(1, 5))
        if kh * kw < 2:
            kw = 2
        sh, sw = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        pad = ("SAME", "VALID")[i % 2]
        h, w = int(rng.integers(kh, kh + 8)), int(rng.integers(kw, kw + 8))
        oc = int(rng.choice([1, 2, 3, 5, 6, 7, 8, 13]))
        in_zp = int(rng.choice([-128, 127, int(rng.integers(-128, 128))]))
        in_s = float(rng.uniform(0.01, 0.1))
        act = ACTS[i % len(ACTS)]
        out_q = (float(rng.uniform(0.02, 0.2)), -128 if act == "RELU" and i % 3 else int(rng.integers(-100, 100)))
        # Multipliers over the whole [2^30, 2^31) range and exponents 1 to 20 per channel.
        ws = out_q[0] / in_s * rng.uniform(0.5, 1.0, oc) * 2.0 ** -rng.integers(1, 21, oc)
        _layer(mb, rng, ins, outs, (h, w, c), oc, (kh, kw), (sh, sw), pad, (in_s, in_zp), out_q, ws, act)
    return mb.build(ins, outs)


def edge_model() -> bytes:
    """Chosen shapes: the first layers of VWW, IC and KWS (scaled down), windows past the unrolled
    sequence, a window ending at the input's last byte, one output pixel, big biases."""
    rng = np.random.default_rng(5)
    mb, ins, outs = ModelBuilder(), [], []
    ws8 = np.full(8, 0.004)
    relu = ((0.05, -128), (0.06, -128))  # input, output: ReLU on a -128 zero point (lean)
    _layer(mb, rng, ins, outs, (12, 14, 3), 8, (3, 3), (2, 2), "SAME", relu[0], relu[1], ws8, "RELU")
    _layer(mb, rng, ins, outs, (8, 8, 3), 16, (3, 3), (1, 1), "SAME", relu[0], relu[1], np.full(16, 0.004), "RELU")
    _layer(mb, rng, ins, outs, (13, 10, 1), 64, (10, 4), (2, 2), "SAME", (0.5, 83), relu[1], np.full(64, 0.002), "RELU")
    _layer(mb, rng, ins, outs, (11, 6, 4), 5, (10, 4), (1, 1), "VALID", (0.05, 3), (0.3, 5), np.full(5, 0.01), "RELU6")
    _layer(mb, rng, ins, outs, (9, 9, 3), 3, (7, 7), (2, 1), "SAME", (0.05, -3), (0.3, 2), np.full(3, 0.01), "NONE")
    _layer(mb, rng, ins, outs, (5, 5, 3), 4, (3, 3), (1, 1), "VALID", (0.05, 127), (0.05, -1), np.full(4, 0.01), "NONE")
    _layer(mb, rng, ins, outs, (3, 4, 2), 7, (3, 4), (1, 1), "VALID", (0.05, -128), (0.05, 0), np.full(7, 0.01), "NONE")
    big = [2**24, -(2**24), 3_000_000, -3_000_000, 0, 1, -1, 2**23]
    _layer(mb, rng, ins, outs, (6, 6, 2), 8, (2, 3), (2, 1), "SAME", (0.05, 0), (0.05, -128), ws8, "RELU", bias=big)
    return mb.build(ins, outs)


def _depthwise(mb, rng, ins, outs, hw, dm, k, strides, pad, act, dil=1):
    """A DEPTHWISE_CONV_2D on a 1-channel input (depth multiplier dm): a CONV_2D in all but name."""
    (h, w), (kh, kw), (sh, sw) = hw, k, strides
    x = mb.tensor([1, h, w, 1], "int8", scale=0.05, zero_point=int(rng.integers(-128, 128)))
    ws = rng.uniform(0.002, 0.02, dm)
    wt = mb.tensor(
        [1, kh, kw, dm],
        "int8",
        scale=[float(v) for v in ws],
        zero_point=[0] * dm,
        quantized_dimension=3,
        data=rng.integers(-128, 128, (1, kh, kw, dm), dtype=np.int8),
    )
    b = mb.tensor(
        [dm],
        "int32",
        scale=[float(v) for v in ws * 0.05],
        zero_point=[0] * dm,
        data=rng.integers(-5000, 5000, dm, dtype=np.int32),
    )
    ekh, ekw = (kh - 1) * dil + 1, (kw - 1) * dil + 1
    y = mb.tensor([1, _out(h, ekh, sh, pad), _out(w, ekw, sw, pad), dm], "int8", scale=0.04, zero_point=-128)
    opts = dict(padding=pad, stride_h=sh, stride_w=sw, dilation_h_factor=dil, dilation_w_factor=dil)
    mb.op("DEPTHWISE_CONV_2D", [x, wt, b], [y], depth_multiplier=dm, fused_activation_function=act, **opts)
    ins.append(x)
    outs.append(y)


def depthwise_model() -> bytes:
    """micro_speech's and person_detect's first layers (scaled down), odd depth multipliers, and a
    dilated one the kernel refuses (the depthwise kernels keep it)."""
    rng = np.random.default_rng(9)
    mb, ins, outs = ModelBuilder(), [], []
    _depthwise(mb, rng, ins, outs, (17, 14), 8, (10, 8), (2, 2), "SAME", "RELU")
    _depthwise(mb, rng, ins, outs, (11, 9), 8, (3, 3), (2, 2), "SAME", "RELU6")
    _depthwise(mb, rng, ins, outs, (7, 8), 3, (2, 3), (1, 2), "VALID", "NONE")
    _depthwise(mb, rng, ins, outs, (9, 9), 4, (3, 3), (1, 1), "SAME", "NONE", dil=2)
    return mb.build(ins, outs)


def _tables(compiled) -> int:
    return "\n".join(compiled.sources.values()).count(str(SCT_MAGIC))


def _check_on_qemu(model: bytes, name: str, asm: bool = True) -> int:
    """Run `model` compiled (with the kernel's assembly, or its C twin) on QEMU against TFLM; the
    number of layers that got the kernel's table."""
    from test_conv_m4_qemu import _feeds, compare_on_qemu

    from tinyflow.compile import compile_model
    from tinyflow.tflite import read_model

    compiled = compile_model(model, name=name)
    if not asm:
        compiled.defines["TINYFLOW_M4_ASM"] = 0  # the C the unoptimised builds take (simd.h)
    samples = _feeds(read_model(model), np.random.default_rng(7))
    compare_on_qemu(compiled, model, samples, name, label=lambda k: f"layer {k}")
    return _tables(compiled)


@pytest.mark.parametrize("seed", [11, 12])
def test_random_small_input_channel_layers_are_bit_identical_to_tflm_on_qemu(seed):
    assert _check_on_qemu(random_model(seed, layers=14), f"small_cin_{seed}") == 14  # all take the kernel


def test_chosen_small_input_channel_layers_are_bit_identical_to_tflm_on_qemu():
    assert _check_on_qemu(edge_model(), "small_cin_edges") == 8


def test_the_c_twin_of_the_assembly_is_bit_identical_on_qemu():
    assert _check_on_qemu(edge_model(), "small_cin_c", asm=False) == 8
    assert _check_on_qemu(random_model(13, layers=8), "small_cin_c13", asm=False) == 8


def test_one_channel_depthwise_layers_take_the_kernel_bit_identically_on_qemu():
    assert _check_on_qemu(depthwise_model(), "small_cin_dw") == 3  # not the dilated one
    assert _check_on_qemu(depthwise_model(), "small_cin_dw_c", asm=False) == 3
