"""The Cortex-M4 pointwise CONV_2D table the compiler appends to the bias on DSP builds
(tinyflow/compile/ops/conv.py pw_table, read by firmware/kernels/cortex_m4/pointwise.h pairs_table).
Bit-exactness on QEMU: tests/compile/test_conv_m4_qemu.py's pointwise model takes this path."""

from __future__ import annotations

import re

import numpy as np

from tinyflow.compile.ops.conv import PWT_MAGIC, _pw_layer, pw_check, pw_table
from tinyflow.tflite.writer import ModelBuilder


def _lane(v, hi):
    return int(np.int16(np.uint16((int(v) >> (16 if hi else 0)) & 0xFFFF)))


def test_a_channel_pair_holds_both_filters_as_int16_pairs_in_smlad_order():
    w = (np.arange(5 * 8).reshape(5, 1, 1, 8) * 37 % 255 - 127).astype(np.int8)  # 2 pairs + 1 channel
    table = pw_table(w, budget=1 << 20)
    assert table.dtype == np.int32 and table.size == 2 * 2 * 4
    words = table.view(np.uint32).reshape(2, 2, 2, 2)  # [pair][word][channel][even/odd]
    for pair in range(2):
        for j in range(2):
            for ch in range(2):
                row, i = w[2 * pair + ch].reshape(-1), 4 * j
                even, odd = words[pair, j, ch]
                assert [_lane(even, 0), _lane(even, 1)] == [row[i], row[i + 2]]
                assert [_lane(odd, 0), _lane(odd, 1)] == [row[i + 1], row[i + 3]]
    assert pw_table(w, budget=table.size * 4 - 1) is None


def test_only_layers_the_pointwise_kernel_takes_get_a_tail():
    p = dict(filter_h=1, filter_w=1, filter_c=8, input_c=8, pad_h=0, pad_w=0, output_c=4)
    assert _pw_layer(p)
    for change in ({"filter_h": 3}, {"pad_w": 1}, {"input_c": 6, "filter_c": 6}, {"output_c": 1}):
        assert not _pw_layer(dict(p, **change))
    assert not _pw_layer(dict(p, input_c=292, filter_c=292))  # past the widening buffer
    assert pw_check(p) != pw_check(dict(p, output_c=8)) and PWT_MAGIC != pw_check(p)


def test_generated_c_appends_the_table_only_under_the_dsp_guard():
    from tinyflow.compile.compiler import compile_model
    from tinyflow.compile.kernels import VARIANT_GUARDS

    mb = ModelBuilder()
    # A scale above 1 (0.5 * 0.5 / 0.05 = 5): outside pw_lean's fast requantization, so the table.
    x = mb.tensor([1, 3, 3, 8], "int8", scale=0.5, zero_point=-7)
    w = mb.tensor([6, 1, 1, 8], "int8", scale=[0.5] * 6, zero_point=[0] * 6, data=np.ones((6, 1, 1, 8), np.int8))
    y = mb.tensor([1, 3, 3, 6], "int8", scale=0.05, zero_point=3)
    mb.op("CONV_2D", [x, w], [y], padding="VALID", stride_h=1, stride_w=1)
    text = compile_model(mb.build(inputs=[x], outputs=[y])).sources["model.c"]
    guard = VARIANT_GUARDS["cortex_m4"]
    m = re.search(r"\{\n  ([-0-9, ]+),\n#if " + re.escape(guard) + r"\n  ([-0-9,\s]+),\n#endif", text)
    assert m is not None
    assert [int(v) for v in m.group(1).split(",")] == [0] * 6  # no bias in the model: zeros
    tail = [int(v) for v in m.group(2).split(",")]
    assert tail[:2] == [PWT_MAGIC, (6 << 16) ^ 8] and len(tail) == 2 + 3 * 2 * 4
