"""CONV_2D's Cortex-M4 table for kxk filters on 1 to 4 input channels
(firmware/kernels/cortex_m4/conv_small_cin.h, read there by sc_table).

The first layer of most vision and audio models has a window of 4 to 252 int8 values, too short
for the run-time widening of the filter to pay for itself. The compiler widens it once instead:
per pair of output channels, the doubled bias, the requantization constants and the doubled
weights as int16 pairs in the order SMLAD takes them."""

from __future__ import annotations

import numpy as np

SCT_MAGIC = 0x34544353  # "SCT4" little-endian
SC_MAX_K = 252  # the kernel's longest window (gathered[] of conv_2d.c, less a row's last word)
SC_MAX_STEPS = 48  # the most steps (two pairs of each of three pixels) in the kernel's widening buffer
SC_HEAD, SC_TAIL = 6, 6  # words before and after each channel pair's weights
_TAP_BOUND = 255 * 128  # |input + input_offset| * |weight|


def sc_slots(params: dict) -> np.ndarray:
    """The order conv_small_cin.h sc_widen_rows widens a window in: [pairs, 2] filter indices (in
    the filter's row, column, channel order; -1 where the weight is 0), a multiple of 2 pairs.

    Each whole word of a filter row gives the pairs (0, 2), (1, 3) (SXTAB16); then the last r
    bytes of two rows a, b share pairs: r = 1: (a0, b0); r = 2: (a0, b0), (a1, b1); r = 3:
    (a0, a2), (b0, b2), (a1, b1); a last odd row gives (a0, -), or (a0, -) (a1, -) for r = 2, or
    (a0, a2) (a1, -) for r = 3 (the lanes past its bytes hold whatever follows: zero weights)."""
    fh, row = params["filter_h"], params["filter_w"] * params["input_c"]
    q, r = divmod(row, 4)
    slots = []
    for fy in range(fh):
        for k in range(fy * row, fy * row + 4 * q, 4):
            slots += [(k, k + 2), (k + 1, k + 3)]
    for fy in range(0, fh - 1, 2):
        a, b = fy * row + 4 * q, (fy + 1) * row + 4 * q
        slots += {1: [(a, b)], 2: [(a, b), (a + 1, b + 1)], 3: [(a, a + 2), (b, b + 2), (a + 1, b + 1)]}.get(r, [])
    if fh % 2 and r:
        a = (fh - 1) * row + 4 * q
        slots += {1: [(a, -1)], 2: [(a, -1), (a + 1, -1)], 3: [(a, a + 2), (a + 1, -1)]}[r]
    if len(slots) % 2:
        slots.append((-1, -1))
    return np.asarray(slots, dtype=np.int64).reshape(-1, 2)


def small_cin_layer(params: dict) -> bool:
    """The layers whose bias the Cortex-M4 kernel reads a tail after (conv_small_cin.h sc_layer)."""
    taps, ic = params["filter_h"] * params["filter_w"], params["input_c"]
    return (
        params["filter_c"] == ic
        and 1 <= ic <= 4
        and taps >= 2
        and params["dilation_h"] == params["dilation_w"] == 1
        and taps * ic <= SC_MAX_K
        and len(sc_slots(params)) // 2 <= SC_MAX_STEPS
    )


def sc_check(params: dict) -> int:
    """The word after SCT_MAGIC: the filter shape the table was made for (the kernel compares it)."""
    p = params
    return (p["output_c"] << 16) ^ (p["filter_h"] << 9) ^ (p["filter_w"] << 2) ^ (p["input_c"] - 1)


def _requant_words(bias: np.ndarray, mults, shifts, k_n: int) -> np.ndarray | None:
    """Per channel (doubled bias, multiplier, exponent), or None when the kernel's requantization
    (SMMLAR, ADD, ASR on doubled accumulators, as dw_block.h's) would not equal TFLM's: an
    exponent outside [1, 30] or an accumulator without room for the rounding term. A channel with
    multiplier 0 outputs the zero point whatever its exponent: it gets 1."""
    m = np.asarray(mults, dtype=np.int64)
    e = np.where(m == 0, 1, -np.asarray(shifts, dtype=np.int64))
    acc = np.abs(bias) + k_n * _TAP_BOUND
    if e.min() < 1 or e.max() > 30 or m.min() < 0 or (2 * acc).max() >= 2**31:
        return None
    if (acc + (1 << (e - 1)) + (128 << e) + 1).max() >= 2**31:
        return None
    return np.stack([2 * bias, m, e], axis=1)


def sc_table(params: dict, weights: np.ndarray, bias: np.ndarray, mults, shifts) -> np.ndarray | None:
    """The kernel's table (int32), or None when its requantization does not apply.

    Per pair of channels (c, c + 1; an odd last channel is paired with zeros): 2 * bias of both,
    three times (one per pixel the kernel computes at once);
    per step (two sc_slots pairs) 4 words: channel c's doubled weights of the two pairs as int16
    pairs, then channel c + 1's; then (multiplier, rounding term 2^(e-1) + output_offset * 2^e)
    of c, of c + 1, and e of both."""
    oc = params["output_c"]
    k_n = params["filter_h"] * params["filter_w"] * params["input_c"]
    b = np.asarray(bias, dtype=np.int64).reshape(-1)
    q = _requant_words(b, mults, shifts, k_n)
    if q is None:
        return None
    pairs = (oc + 1) // 2
    head = np.zeros((2 * pairs, 4), dtype=np.int64)  # per channel: bias2, m, round, e (padding: zeros)
    head[:oc] = np.stack(
        [q[:, 0], q[:, 1], (1 << (q[:, 2] - 1)) + params["output_offset"] * (1 << q[:, 2]), q[:, 2]], 1
    )
    w = np.zeros((2 * pairs, k_n + 1), dtype=np.int64)  # column k_n: the zero weight of slot -1
    w[:oc, :k_n] = 2 * np.asarray(weights, dtype=np.int64).reshape(oc, k_n)
    slots = sc_slots(params)
    lanes = w[:, slots] & 0xFFFF  # [channel][slot][lo, hi]
    words = (lanes[..., 0] | lanes[..., 1] << 16).reshape(pairs, 2, -1, 2).transpose(0, 2, 1, 3).reshape(pairs, -1)
    h = head.reshape(pairs, 2, 4)
    before = h[:, [0, 1, 0, 1, 0, 1], 0]  # bias2 of both, three times (one per pixel)
    after = h[:, [0, 0, 1, 1, 0, 1], [1, 2, 1, 2, 3, 3]]  # (m, round) of c, of c + 1; e of both
    return np.concatenate([before, words, after], axis=1).reshape(-1).astype(np.uint32).view(np.int32)


def sc_bias(ctx, params: dict, weights, bias, mults, shifts) -> str:
    """The bias argument of a small_cin_layer: the bias (zeros when the model has none) followed,
    on DSP builds only, by SCT_MAGIC, a check word and sc_table, or two zeros when the table does
    not apply or does not fit the model's DSP table budget."""
    oc = params["output_c"]
    b = np.zeros(oc, dtype=np.int64) if bias is None else np.asarray(bias, dtype=np.int64).reshape(-1)
    table = sc_table(params, np.asarray(weights), b, mults, shifts)
    if table is not None and 4 * (table.size + 2) > ctx.dsp_table_budget():
        table = None
    head = np.asarray([0, 0] if table is None else [SCT_MAGIC, sc_check(params)], dtype=np.int64)
    tail = head.astype(np.uint32).view(np.int32)
    if table is not None:
        tail = np.concatenate([tail, table])
    return ctx.dsp_tail_array("scb", b, tail)


def depthwise_as_conv(op, ctx, inp, filt, out):
    """A DEPTHWISE_CONV_2D on a 1-channel input, lowered as the CONV_2D it is (filter [1, kh, kw,
    oc] read as [oc, kh, kw, 1]: the same sums and requantization, so the same outputs on either
    portable kernel) when the small-input-channel kernel takes it with its table; else None (the
    depthwise kernels then run). micro_speech's and person_detect's first layers are such."""
    from tinyflow.compile.ops import Lowered
    from tinyflow.compile.ops import conv as c  # conv.py imports this module
    from tinyflow.compile.quant import check_geometry, conv_multipliers, qparams

    _, fh, fw, oc = filt.shape
    params = {"batches": inp.shape[0], "input_h": inp.shape[1], "input_w": inp.shape[2], "input_c": 1}
    params.update({"filter_h": fh, "filter_w": fw, "filter_c": 1, "output_c": oc})
    params.update(c._window(op, ctx, inp, out, fh, fw))
    if not small_cin_layer(params):
        return None
    check_geometry(ctx, params, (inp, filt, out))
    bias_i = op.inputs[2] if len(op.inputs) > 2 else -1
    if bias_i >= 0 and ctx.expect(bias_i, ("INT32",), constant=True, what="bias").size != oc:
        ctx.fail(f"bias has {ctx.tensor(bias_i).size} values for {oc} output channels")
    q, m, s, _ = c._quant(op, ctx, inp, filt, -1, out, oc)
    params.update(q)
    weights = np.transpose(np.asarray(ctx.value(op.inputs[1])).reshape(fh, fw, oc), (2, 0, 1)).reshape(oc, fh, fw, 1)
    bias = np.zeros(oc, dtype=np.int64) if bias_i < 0 else np.asarray(ctx.value(bias_i), dtype=np.int64).reshape(-1)
    mults, shifts = conv_multipliers(qparams(inp)[0], filt.scale, qparams(out)[0], oc)
    table = sc_table(params, weights, bias, mults, shifts)
    if table is None or 4 * (table.size + 2) > ctx.dsp_table_budget():
        return None
    b = sc_bias(ctx, params, weights, bias, mults, shifts)
    w = ctx.const_array("int8_t", weights, "w")
    p = ctx.struct(c.CONV, params)
    return Lowered(
        f"tinyflow_conv_2d_s8(&{p}, {m}, {s}, {ctx.ptr(op.inputs[0])}, (const int8_t *){w}, {b}, "
        f"{ctx.ptr(op.outputs[0])})",
        kernels=("conv_2d",),
        overlap=c.raster_overlap(params, 1, oc),
    )
