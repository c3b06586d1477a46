"""The lean pointwise table (tinyflow/compile/ops/pw_lean.py, read by
firmware/kernels/cortex_m4/pw_lean.h): its layout, the exactness proof that admits a layer, and
the constant blocks of dead channels. Bit-exactness on QEMU: tests/compile/test_pw_lean_qemu.py."""

from __future__ import annotations

import numpy as np

from tinyflow.compile.ops.conv import pw_check, pw_table
from tinyflow.compile.ops.pw_lean import PWL_MAGIC, PWL_WEIGHTS, pw_lean, reference_requant

PARAMS = dict(output_c=5, input_c=8, input_offset=7, output_offset=-3, act_min=-128, act_max=127)


def _layer(rng, oc=5, k=8):
    w = rng.integers(-127, 128, (oc, 1, 1, k)).astype(np.int8)
    return w, rng.integers(-5000, 5000, oc).astype(np.int64), [1_500_000_000] * oc, [-7, -8, -1, -31, -9][:oc]


def test_blocks_hold_doubled_bias_doubled_filter_then_multiplier_and_exponent_words():
    w, b, m, s = _layer(np.random.default_rng(0))
    t = pw_lean(PARAMS, w, b, m, s, budget=1 << 20)
    assert list(t[:3]) == [PWL_MAGIC, pw_check(PARAMS), PWL_WEIGHTS]
    blocks = t[3:].reshape(2, 2 + 8 + 4)  # 2 pairs (the fifth channel is the kernel's exact tail)
    doubled = pw_table(2 * w[:4].astype(np.int64), 1 << 20).astype(np.int64).reshape(2, 8)
    c = (1 + 2 * PARAMS["output_offset"]) * 65536
    for pair in range(2):
        ch = 2 * pair
        assert list(blocks[pair, :2]) == [2 * b[ch], 2 * b[ch + 1]]
        assert list(blocks[pair, 2:10]) == list(doubled[pair])
        last = 0x100 if pair == 1 else 0  # the loop's end, on the last pair's e1
        e0, e1 = (~s[ch] & 0xFF) + c, (~s[ch + 1] & 0xFF) + c + last
        assert list(blocks[pair, 10:]) == [m[ch], e0, m[ch + 1], e1]


def test_without_room_for_the_filter_the_blocks_hold_only_the_channel_words():
    w, b, m, s = _layer(np.random.default_rng(1))
    t = pw_lean(PARAMS, w, b, m, s, budget=4 * (3 + 6 * 2))
    assert t[2] == 0 and t.size == 3 + 6 * 2
    assert pw_lean(PARAMS, w, b, m, s, budget=4 * (3 + 6 * 2) - 1) is None


def test_layers_outside_the_fast_requantization_or_the_bound_are_refused():
    w, b, m, s = _layer(np.random.default_rng(2))
    assert pw_lean(PARAMS, w, b, m, [-7, 1, -1, -31, -9], 1 << 20) is None  # a left shift
    assert pw_lean(PARAMS, w, b, m, [-7, -32, -1, -31, -9], 1 << 20) is None
    assert pw_lean(PARAMS, w, b, [0, -(2**31), 0, 0, 0], s, 1 << 20) is None
    assert pw_lean(PARAMS, w, b, [0] * 5, [0] * 5, 1 << 20) is not None  # multiplier 0, shift 0: flushed
    # An accumulator that can reach 2^30 and not constant: the reference's int32 sum may wrap.
    assert pw_lean(PARAMS, w, np.array([2**31 - 10, 0, 0, 0, 0]), m, s, 1 << 20) is None
    # The same bias far enough from the end: constant (127), admitted.
    assert pw_lean(PARAMS, w, np.array([2**31 - 2**20, 0, 0, 0, 0]), m, s, 1 << 20) is not None


def test_a_dead_channel_becomes_a_constant_block_with_the_reference_output():
    rng = np.random.default_rng(3)
    w, b, m, s = _layer(rng, oc=4)
    p = dict(PARAMS, output_c=4, act_min=-3)  # RELU: the zero point is the floor
    b[1], b[2] = -2_000_000_000, 2_000_000_000  # always the floor; always saturated at 127
    t = pw_lean(p, w, b, m, s, budget=1 << 20)
    blocks = t[3:].reshape(2, 2 + 8 + 4)
    for ch, want in ((1, -3), (2, 127)):
        pair, lane = divmod(ch, 2)
        acc2, mult, e = blocks[pair, lane], blocks[pair, 10 + 2 * lane], blocks[pair, 11 + 2 * lane]
        assert (mult, e & 0xFF) == (2**30, 0)  # multiplier 0.5, shift -1
        assert reference_requant(int(acc2) // 2, 2**30, -1, p) == want
        assert want == reference_requant(int(b[ch]), m[ch], s[ch], p)
    # Their filter words are zero, the live channels' are not.
    words = blocks[:, 2:10].reshape(2, 2, 2, 2)  # [pair][word][channel][even/odd]
    assert not words[0, :, 1].any() and not words[1, :, 0].any()
    assert words[0, :, 0].any() and words[1, :, 1].any()


def test_reference_requant_rounds_as_tflm():
    p = dict(output_offset=0, act_min=-128, act_max=127)
    assert reference_requant(100, 2**30, -1, p) == 25  # 100 * 0.5 / 2
    assert reference_requant(-6, 2**30, -2, p) == -1  # -3 / 4 = -0.75
    assert reference_requant(-12, 2**30, -2, p) == -2  # -6 / 4 = -1.5: half away from zero
    assert reference_requant(10, 2**30, -2, p) == 1  # 5 / 4 = 1.25
    assert reference_requant(2**31 - 1, 2**31 - 1, -1, p) == 127  # clamped
    assert reference_requant(-(2**31), -(2**31), -1, dict(p, output_offset=-3)) == 127
