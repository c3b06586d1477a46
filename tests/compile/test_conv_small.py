"""The Cortex-M4 table for kxk CONV_2D on 1-4 input channels (tinyflow/compile/ops/conv_small.py,
read by firmware/kernels/cortex_m4/conv_small_cin.h). Bit-exactness on QEMU:
tests/compile/test_conv_small_qemu.py."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinyflow.compile.ops.conv_small import (
    SC_HEAD,
    SC_MAX_STEPS,
    SC_TAIL,
    SCT_MAGIC,
    sc_check,
    sc_slots,
    sc_table,
    small_cin_layer,
)
from tinyflow.tflite.writer import ModelBuilder

P = dict(filter_h=3, filter_w=3, input_c=3, filter_c=3, output_c=5, dilation_h=1, dilation_w=1, output_offset=-3)


def _steps_c(fh: int, fw: int, ic: int) -> int:
    """conv_small_cin.h sc_steps, transcribed: the kernel sizes its loops and buffers by it."""
    row = fw * ic
    q, r = row >> 2, row & 3
    tails = 0 if r == 0 else (fh >> 1) * r + (fh & 1) * (1 if r == 1 else 2)
    return (2 * q * fh + tails + 1) >> 1


@pytest.mark.parametrize("fh", range(1, 11))
@pytest.mark.parametrize("fw", range(1, 5))
@pytest.mark.parametrize("ic", range(1, 5))
def test_the_slots_hold_every_tap_once_in_as_many_steps_as_the_kernel_counts(fh, fw, ic):
    slots = sc_slots(dict(P, filter_h=fh, filter_w=fw, input_c=ic))
    taps = slots[slots >= 0]
    assert sorted(taps.tolist()) == list(range(fh * fw * ic))
    assert len(slots) % 2 == 0 and len(slots) // 2 == _steps_c(fh, fw, ic)
    # A pair's two lanes are bytes of one input word: SXTAB16 lanes (k, k + 2), (k + 1, k + 3) of a
    # row's whole word, or one byte of each of two rows' last word (PKHBT).
    row = fw * ic
    for lo, hi in slots:
        if lo >= 0 and hi >= 0 and lo // row == hi // row:
            assert hi - lo == 2 and (lo % row) % 4 in (0, 1, 2)


def test_a_3x3_rgb_window_is_14_pairs_with_one_zero_lane():
    slots = sc_slots(P)
    assert slots.shape == (14, 2) and (slots < 0).sum() == 1
    assert slots[:2].tolist() == [[0, 2], [1, 3]] and slots[12:].tolist() == [[8, 17], [26, -1]]


def _lane(v, hi):
    return int(np.int16(np.uint16((int(v) >> (16 if hi else 0)) & 0xFFFF)))


def test_a_channel_pair_block_holds_biases_doubled_weights_in_slot_order_and_requantization():
    rng = np.random.default_rng(0)
    w = rng.integers(-128, 128, (5, 3, 3, 3)).astype(np.int8)
    bias = np.array([100, -200, 300, -400, 5])
    mults, shifts = [1 << 30, 1 << 29, 0, 1234567890, 2**31 - 1], [-5, -6, 0, -20, -1]
    table = sc_table(P, w, bias, mults, shifts)
    steps = 7
    block = SC_HEAD + 4 * steps + SC_TAIL
    assert table.dtype == np.int32 and table.size == 3 * block  # 5 channels: 3 pairs, the last padded
    slots = sc_slots(P)
    flat = w.reshape(5, 27).astype(np.int64)
    e = np.array([5, 6, 1, 20, 1])  # multiplier 0: exponent 1 (its output is the zero point anyway)
    for pair in range(3):
        blk = table[pair * block : (pair + 1) * block]
        chans = [2 * pair, 2 * pair + 1]
        want_b = [2 * bias[c] if c < 5 else 0 for c in chans]
        assert blk[:SC_HEAD].tolist() == want_b * 3  # once per pixel of the three
        words = blk[SC_HEAD : SC_HEAD + 4 * steps].view(np.uint32).reshape(steps, 2, 2)  # [step][ch][pair]
        for s in range(steps):
            for k, c in enumerate(chans):
                for j in range(2):
                    lo, hi = slots[2 * s + j]
                    want = [2 * flat[c, i] if c < 5 and i >= 0 else 0 for i in (lo, hi)]
                    assert [_lane(words[s, k, j], 0), _lane(words[s, k, j], 1)] == want
        tail = blk[-SC_TAIL:].tolist()
        for k, c in enumerate(chans):
            if c < 5:
                assert tail[2 * k] == mults[c] and tail[4 + k] == e[c]
                assert tail[2 * k + 1] == (1 << (e[c] - 1)) - 3 * (1 << e[c])


def test_no_table_when_the_kernel_requantization_would_differ_from_tflm():
    w = np.ones((2, 3, 3, 3), np.int8)
    ok = dict(bias=np.array([0, 0]), mults=[1 << 30] * 2)
    assert sc_table(P | {"output_c": 2}, w, shifts=[-8, -8], **ok) is not None
    assert sc_table(P | {"output_c": 2}, w, shifts=[-8, 1], **ok) is None  # scale above 1
    assert sc_table(P | {"output_c": 2}, w, shifts=[-8, -31], **ok) is None  # exponent past 30
    big = np.array([2**30, 0])  # no room for the doubled accumulator
    assert sc_table(P | {"output_c": 2}, w, big, [1 << 30] * 2, [-8, -8]) is None


def test_only_small_input_channel_kxk_layers_get_a_tail():
    assert small_cin_layer(P)
    for change in (
        {"filter_h": 1, "filter_w": 1},  # pointwise: its own kernel
        {"input_c": 5, "filter_c": 5},
        {"filter_c": 1},  # grouped
        {"dilation_w": 2},
        {"filter_h": 29, "filter_w": 3},  # 261 > SC_MAX_K inputs
    ):
        assert not small_cin_layer(P | change), change
    assert small_cin_layer(P | {"filter_h": 10, "filter_w": 4, "input_c": 1, "filter_c": 1})  # KWS's first layer
    long = P | {"filter_h": 9, "filter_w": 7, "input_c": 4, "filter_c": 4}  # 252 inputs, 63 steps
    assert len(sc_slots(long)) // 2 > SC_MAX_STEPS and not small_cin_layer(long)
    assert sc_check(P) != sc_check(P | {"output_c": 6}) and sc_check(P) != sc_check(P | {"filter_w": 2})


def _model(ic=3, oc=6, act="RELU"):
    mb = ModelBuilder()
    x = mb.tensor([1, 7, 7, ic], "int8", scale=0.05, zero_point=-7)
    data = np.arange(oc * 9 * ic).reshape(oc, 3, 3, ic) % 200 - 100
    w = mb.tensor([oc, 3, 3, ic], "int8", scale=[0.01] * oc, zero_point=[0] * oc, data=data.astype(np.int8))
    y = mb.tensor([1, 4, 4, oc], "int8", scale=0.04, zero_point=3)
    mb.op("CONV_2D", [x, w], [y], padding="SAME", stride_h=2, stride_w=2, fused_activation_function=act)
    return mb.build(inputs=[x], outputs=[y])


def _tail(text: str):
    from tinyflow.compile.kernels import VARIANT_GUARDS

    guard = VARIANT_GUARDS["cortex_m4"]
    m = re.search(r"\{\n  ([-0-9, ]+),\n#if " + re.escape(guard) + r"\n  ([-0-9,\s]+),\n#endif", text)
    return None if m is None else ([int(v) for v in m.group(1).split(",")], [int(v) for v in m.group(2).split(",")])


def test_generated_c_appends_the_table_only_under_the_dsp_guard():
    from tinyflow.compile.compiler import compile_model

    bias, tail = _tail(compile_model(_model()).sources["model.c"])
    assert bias == [0] * 6  # no bias in the model: zeros
    assert tail[:2] == [SCT_MAGIC, sc_check(P | {"output_c": 6})] and len(tail) == 2 + 3 * (SC_HEAD + 28 + SC_TAIL)


def test_no_table_past_the_dsp_table_budget():
    from tinyflow.compile.compiler import compile_model

    model = _model()
    bias, tail = _tail(compile_model(model, table_flash=len(model) + 100).sources["model.c"])
    assert tail == [0, 0]  # the kernel then takes the general paths
