"""The Cortex-M4 FULLY_CONNECTED table the compiler appends to the folded bias on DSP builds
(tinyflow/compile/ops/fully_connected.py fcw_table, read by firmware/kernels/cortex_m4/fully_connected.c):
its layout, when it is left out, and QEMU runs bit-identical to TFLM with it."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinyflow.compile.ops.fully_connected import FCQ_MAGIC, FCW_MAGIC, FCW_MAX_BYTES, fcw_check, fcw_table
from tinyflow.tflite.writer import ModelBuilder


def _lane(v, hi):
    return int(np.int16(np.uint16((int(v) >> (16 if hi else 0)) & 0xFFFF)))


def test_a_block_holds_each_rows_weights_as_int16_pairs_in_smlad_order():
    w = (np.arange(9 * 11).reshape(9, 11) * 37 % 255 - 127).astype(np.int8)  # 2 blocks + 1 row, 2 words + 3
    table = fcw_table(w)
    assert table.dtype == np.int32 and table.size == 2 * 2 * 8
    words = table.view(np.uint32).reshape(2, 2, 4, 2)  # [block][word][row][pair]
    for blk in range(2):
        for j in range(2):
            for r in range(4):
                row, i = w[4 * blk + r], 4 * j
                even, odd = words[blk, j, r]
                assert [_lane(even, 0), _lane(even, 1)] == [row[i], row[i + 2]]
                assert [_lane(odd, 0), _lane(odd, 1)] == [row[i + 1], row[i + 3]]


def test_layers_without_a_full_block_or_too_large_get_no_table():
    assert fcw_table(np.ones((3, 64), np.int8)) is None  # fewer than 4 rows
    assert fcw_table(np.ones((8, 3), np.int8)) is None  # fewer than 4 inputs
    rows = FCW_MAX_BYTES // (2 * 256) + 4
    assert fcw_table(np.ones((rows, 256), np.int8)) is None
    assert fcw_table(np.ones((8, 16), np.int8), budget=2 * 8 * 16 - 1) is None  # the model's budget
    assert fcw_table(np.ones((8, 16), np.int8), budget=2 * 8 * 16) is not None


def test_the_check_word_tells_shapes_apart():
    words = {fcw_check(o, d) for o, d in ((4, 4), (4, 8), (8, 4), (128, 640), (640, 128))}
    assert len(words) == 5 and FCW_MAGIC not in words


def _fc(mb, rng, ins, outs, batches, depth, n_out, in_q=(0.05, -7), w_scale=0.01, out_q=(0.05, 3), bias=None):
    x = mb.tensor([batches, depth], "int8", scale=in_q[0], zero_point=in_q[1])
    data = rng.integers(-127, 128, (n_out, depth), dtype=np.int8)
    w = mb.tensor([n_out, depth], "int8", scale=w_scale, zero_point=0, data=data)
    bv = np.asarray(bias if bias is not None else rng.integers(-3000, 3000, n_out), dtype=np.int32)
    b = mb.tensor([n_out], "int32", scale=w_scale * in_q[0], zero_point=0, data=bv)
    y = mb.tensor([batches, n_out], "int8", scale=out_q[0], zero_point=out_q[1])
    mb.op("FULLY_CONNECTED", [x, w, b], [y])
    ins.append(x)
    outs.append(y)


def table_model(seed=3) -> bytes:
    rng = np.random.default_rng(seed)
    mb, ins, outs = ModelBuilder(), [], []
    _fc(mb, rng, ins, outs, 1, 37, 13)  # depth remainder 1, one row past the blocks, odd word count
    _fc(mb, rng, ins, outs, 3, 6, 6)  # batches, depth remainder 2, one word
    _fc(mb, rng, ins, outs, 2, 47, 4, w_scale=1e-9)  # remainder 3; the exact requantization
    _fc(mb, rng, ins, outs, 1, 256, 8, w_scale=0.002)  # the unrolled loop only
    big = [2**31 - 1, -(2**31), 2**30, -(2**30) - 1, 2**30 - 1, -(2**30), 1_500_000_000, -1_500_000_000]
    _fc(mb, rng, ins, outs, 1, 8, 8, bias=big, w_scale=2e-8, in_q=(0.05, 5), out_q=(0.05, 1))  # saturating
    _fc(mb, rng, ins, outs, 1, 16, 3)  # no table: the int8 path
    return mb.build(ins, outs)


def test_generated_c_appends_the_table_only_under_the_dsp_guard():
    from tinyflow.compile.compiler import compile_model
    from tinyflow.compile.kernels import VARIANT_GUARDS

    text = compile_model(table_model()).sources["model.c"]
    guard = VARIANT_GUARDS["cortex_m4"]
    tails = re.findall(r"#if " + re.escape(guard) + r"\n  ([-0-9]+), ([-0-9]+)", text)
    magic, plain = (int(np.uint32(v).view(np.int32)) for v in (FCW_MAGIC, FCQ_MAGIC))
    assert [int(t[0]) for t in tails] == [magic] * 5 + [plain]  # the last layer: flags only, no table
    shapes = ((13, 37), (6, 6), (4, 47), (8, 256), (8, 8), (3, 16))
    assert [int(t[1]) for t in tails] == [fcw_check(o, d) for o, d in shapes]


@pytest.mark.arm
@pytest.mark.qemu
@pytest.mark.slow
def test_fully_connected_with_tables_is_bit_identical_to_tflm_on_qemu():
    from test_conv_m4_qemu import _check_on_qemu

    _check_on_qemu(table_model(), "fc_table")


@pytest.mark.parametrize("rel", ["mlperf_tiny/ad01_int8.tflite", "mlperf_tiny/vww_96_int8.tflite"])
def test_tables_stay_within_the_smallest_dsp_boards_flash(rel):
    """A model that fit a 512 KB DSP board without the tables still fits with them."""
    from conftest import corpus_path
    from tinyflow.boards.catalog import load_board
    from tinyflow.boards.fit import fit_model
    from tinyflow.compile import compile_model
    from tinyflow.compile.context import DSP_TABLE_FLASH_BYTES

    data = corpus_path(rel).read_bytes()
    compiled = compile_model(data)
    assert 0 < compiled.dsp_const_bytes <= DSP_TABLE_FLASH_BYTES - len(data)
    board = load_board("nucleo_f446re")  # 512 KB, Cortex-M4 with DSP
    fit = fit_model(board, "aot", model_flash=compiled.flash_constants(board.dsp), ram=compiled.plan.arena_bytes)
    assert fit.fits, fit.verdict
