"""The Cortex-M4 depthwise table the compiler appends to the bias on DSP builds
(tinyflow/compile/ops/conv.py _dwb_blocks, read by firmware/kernels/cortex_m4/dw_block.h)."""

from __future__ import annotations

import numpy as np

from tinyflow.compile.ops.conv import DWB_MAGIC, _dwb_blocks, _dwb_check

PARAMS = dict(
    output_c=4, filter_h=3, filter_w=3, depth_multiplier=1, dilation_h=1, dilation_w=1, input_offset=7, output_offset=-3
)


def _table(params=None, bias=(100, -200, 300, -400), mults=(1 << 30,) * 4, shifts=(-5, -6, -7, -8), weights=None):
    p = dict(PARAMS, **(params or {}))
    taps, oc = p["filter_h"] * p["filter_w"], p["output_c"]
    w = np.arange(taps * oc).reshape(1, p["filter_h"], p["filter_w"], oc) % 255 - 127 if weights is None else weights
    b = np.resize(np.asarray(bias, dtype=np.int64), oc)
    return _dwb_blocks(p, np.asarray(w), b, list(np.resize(mults, oc)), list(np.resize(shifts, oc))), w, b


def test_a_block_holds_biases_requantization_and_widened_doubled_weights():
    table, w, b = _table()
    assert table.dtype == np.int32 and table.size == 20 + 2 * 9
    taps = w.reshape(9, 4).astype(np.int64)
    np.testing.assert_array_equal(table[0:4], 2 * b + 2 * 7 * taps.sum(axis=0))  # interior bias, offset folded
    np.testing.assert_array_equal(table[4:8], 2 * b)
    e = np.array([5, 6, 7, 8])
    np.testing.assert_array_equal(table[8:16:2], [1 << 30] * 4)
    np.testing.assert_array_equal(table[9:16:2], (1 << (e - 1)) - 3 * (1 << e))
    np.testing.assert_array_equal(table[16:20], e)
    pairs = table[20:].view(np.uint32).reshape(9, 2)
    for t in range(9):
        lane = lambda v: np.int16(np.uint16(v & 0xFFFF))  # noqa: E731
        assert [lane(pairs[t, 0]), lane(pairs[t, 0] >> 16)] == [2 * taps[t, 0], 2 * taps[t, 2]]
        assert [lane(pairs[t, 1]), lane(pairs[t, 1] >> 16)] == [2 * taps[t, 1], 2 * taps[t, 3]]


def test_depth_multipliers_of_four_and_other_filter_sizes_get_a_table():
    table, _, _ = _table({"depth_multiplier": 8, "output_c": 8, "filter_h": 10, "filter_w": 8})
    assert table is not None and table.size == 2 * (20 + 2 * 80)


def test_layers_the_fast_requantization_cannot_serve_get_no_table():
    assert _table(shifts=(0, -6, -7, -8))[0] is None  # e = 0: no rounding half to add
    assert _table(shifts=(1, -6, -7, -8))[0] is None  # a left shift
    assert _table(bias=(1 << 30, 0, 0, 0))[0] is None  # 2 * accumulator would overflow
    assert _table(shifts=(-30, -6, -7, -8))[0] is None  # output_offset * 2^30 overflows
    assert _table({"output_c": 6})[0] is None  # a channel tail
    assert _table({"depth_multiplier": 2, "output_c": 4})[0] is None
    assert _table({"dilation_h": 2})[0] is None


def test_the_check_word_tells_filter_shapes_and_depth_multipliers_apart():
    words = {
        _dwb_check(dict(PARAMS, **p))
        for p in ({}, {"filter_h": 5}, {"filter_w": 5}, {"output_c": 8}, {"depth_multiplier": 4})
    }
    assert len(words) == 5 and DWB_MAGIC not in words


def test_generated_c_appends_the_table_only_under_the_dsp_guard():
    from tinyflow.compile.compiler import compile_model
    from tinyflow.compile.kernels import VARIANT_GUARDS
    from tinyflow.tflite.writer import ModelBuilder

    mb = ModelBuilder()
    x = mb.tensor([1, 5, 5, 4], "int8", scale=0.05, zero_point=-7)
    w = mb.tensor(
        [1, 3, 3, 4],
        "int8",
        scale=[0.01] * 4,
        zero_point=[0] * 4,
        quantized_dimension=3,
        data=np.ones((1, 3, 3, 4), np.int8),
    )
    b = mb.tensor([4], "int32", scale=[0.0005] * 4, zero_point=[0] * 4, data=np.array([1, 2, 3, 4], np.int32))
    y = mb.tensor([1, 5, 5, 4], "int8", scale=0.04, zero_point=3)
    mb.op("DEPTHWISE_CONV_2D", [x, w, b], [y], padding="SAME", stride_h=1, stride_w=1, depth_multiplier=1)
    text = compile_model(mb.build(inputs=[x], outputs=[y])).sources["model.c"]
    guard = f"#if {VARIANT_GUARDS['cortex_m4']}\n"
    assert guard in text
    tail = text.split(guard, 1)[1].split("#endif", 1)[0]
    assert tail.split(",")[0].strip() == str(DWB_MAGIC)
