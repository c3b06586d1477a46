"""The Cortex-M4 lean pointwise table (firmware/kernels/cortex_m4/pw_lean.h): per pair of output
channels, everything the kernel's block reads, in the order it reads it, proven exact offline.

The kernel accumulates 2 acc (doubled filter words in the table, or doubled widened inputs) and
requantizes with requant_fast.h without its saturation check. That equals the TFLM reference when
every channel takes the fast requantization and no accumulator reaches 2^30 (then 2 acc fits
int32; SMLAD wraps, so only the final sum matters). A channel whose accumulator can reach 2^30
(a dead channel's huge bias) qualifies when its output is the same for every input: its block
then holds zero weights and a bias and multiplier that give that output.
"""

from __future__ import annotations

import numpy as np

from tinyflow.compile.ops.conv import pw_check, pw_table

PWL_MAGIC = 0x354C5750  # "PWL5"
PWL_WEIGHTS = 1  # head flag: each block holds its pair's widened filter, doubled
_I32 = 2**31
_HALF = 2**30  # 2^30 and 0 - 1 = ~(-1): a constant channel's multiplier 0.5 and shift -1
_LAST = 0x100  # flag in the last pair's e1


def reference_requant(acc: int, m: int, shift: int, params: dict) -> int:
    """TFLM's int8 conv output for one int32 accumulator (MultiplyByQuantizedMultiplier with the
    right shift only, then offset and activation clamp); shift in [-31, 0]."""
    if acc == m == -_I32:
        high = _I32 - 1
    else:
        ab = acc * m
        nudge = _HALF if ab >= 0 else 1 - _HALF
        q = abs(ab + nudge) // _I32  # C division truncates toward zero
        high = q if ab + nudge >= 0 else -q
    e = -shift
    mask = (1 << e) - 1
    threshold = (mask >> 1) + (1 if high < 0 else 0)
    out = (high >> e) + (1 if (high & mask) > threshold else 0) + params["output_offset"]
    return min(max(out, params["act_min"]), params["act_max"])


def _acc_range(weights: np.ndarray, bias: np.ndarray, input_offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Per channel, the least and greatest accumulator over every int8 input."""
    w = weights.astype(np.int64)
    lo_x, hi_x = -128 + input_offset, 127 + input_offset
    lo = bias + np.minimum(w * lo_x, w * hi_x).sum(axis=1)
    hi = bias + np.maximum(w * lo_x, w * hi_x).sum(axis=1)
    return lo, hi


def _constants(params: dict, lo, hi, mults, shifts) -> list[int | None]:
    """Per channel, its output when it is the same for every input (requantization is monotonic in
    the accumulator; a range past int32 wraps in the reference, so it does not qualify), else None."""
    out: list[int | None] = []
    for a, b, m, s in zip(lo.tolist(), hi.tolist(), mults, shifts):
        if a < -_I32 or b >= _I32:
            out.append(None)
            continue
        v = reference_requant(a, m, s, params)
        out.append(v if v == reference_requant(b, m, s, params) else None)
    return out


def fits_weights(k: int, pairs: int, budget: int) -> bool:
    """Whether the blocks with the pairs' filters (k inputs deep) fit budget bytes."""
    return 4 * (3 + (6 + k) * pairs) <= budget


def pw_lean(params: dict, weights: np.ndarray, bias: np.ndarray, mults, shifts, budget: int) -> np.ndarray | None:
    """PWL_MAGIC, pw_check, the flags, then per pair of channels (an odd last channel is the
    kernel's exact tail): 2 bias0, 2 bias1, the pair's pw_table words doubled (when they fit budget
    bytes), m0, e0, m1, e1 (e: ~shift, 1 + 2 output_offset and a last-pair flag). None when the
    kernel would not be exact or nothing fits."""
    oc, k = weights.shape[0], int(np.prod(weights.shape[1:]))
    pairs, n = oc // 2, 2 * (oc // 2)
    m, s = np.asarray(mults, dtype=np.int64), np.asarray(shifts, dtype=np.int64)
    if 4 * (3 + 6 * pairs) > budget or pairs == 0:
        return None
    if not np.all((((s >= -31) & (s <= -1)) | ((s == 0) & (m == 0))) & (m != -_I32)):
        return None  # a channel outside requant_fast.h's path
    w = weights.reshape(oc, k).astype(np.int64)
    b = bias.astype(np.int64).copy()
    lo, hi = _acc_range(w, b, params["input_offset"])
    bounded = np.maximum(-lo, hi) < _HALF
    with_w = fits_weights(k, pairs, budget)
    if not with_w:
        if not np.all(bounded):
            return None
    elif not np.all(bounded[:n]):
        consts = _constants(params, lo[:n], hi[:n], m[:n], s[:n])
        if any(c is None and not ok for c, ok in zip(consts, bounded[:n])):
            return None
        w, m, s = w.copy(), m.copy(), s.copy()
        for ch, c in enumerate(consts):
            if not bounded[ch]:  # zero weights; (4 (c - offset)) * 0.5 * 2^-1 + offset = c
                w[ch], b[ch], m[ch], s[ch] = 0, 4 * (c - params["output_offset"]), _HALF, -1
    body = [2 * b[:n].reshape(pairs, 2)]
    if with_w:
        body.append(pw_table(2 * w[:n], 1 << 62).astype(np.int64).reshape(pairs, k))  # [-254, 254]: int16
    # e = ~shift in the low byte (ASR by register reads only it), c = 1 + 2 output_offset in the high
    # half; the last pair's e1 carries bit 8: the assembly loop's end.
    e = (~s[:n] & 0xFF) + (1 + 2 * params["output_offset"]) * 65536
    e[-1] += _LAST
    body.append(np.stack([m[:n].reshape(pairs, 2), e.reshape(pairs, 2)], axis=-1).reshape(pairs, 4))
    head = np.asarray([PWL_MAGIC, pw_check(params), PWL_WEIGHTS if with_w else 0], dtype=np.int64)
    return np.concatenate([head, np.concatenate(body, axis=1).reshape(-1)])
