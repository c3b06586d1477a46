"""FULLY_CONNECTED (int8 activations, int8 weights, int32 bias) lowering.

The input offset is folded into the bias here: bias'[o] = bias[o] + input_offset * sum_k w[o, k],
wrapped to int32 like the reference's accumulator, so the device runs a bare dot product.
"""

from __future__ import annotations

import numpy as np

from tinyflow.compile.ops import Lowered
from tinyflow.compile.ops.cstruct import CStruct
from tinyflow.compile.quant import MAX_TENSOR, activation_range, fc_multipliers, qparams

FC = CStruct(
    "tinyflow_fc_params_t",
    tuple((f, "int32_t", 0) for f in ("batches", "accum_depth", "output_depth", "output_offset", "act_min", "act_max")),
)


def folded_bias(weights: np.ndarray, bias: np.ndarray | None, input_offset: int) -> np.ndarray:
    """bias + input_offset * row sums of weights, wrapped to int32."""
    acc = np.asarray(weights, dtype=np.int64).sum(axis=1) * int(input_offset)
    if bias is not None:
        acc = acc + np.asarray(bias, dtype=np.int64).reshape(-1)
    return ((acc + 2**31) % 2**32 - 2**31).astype(np.int32)


def lower_fully_connected(op, ctx) -> Lowered:
    inp = ctx.expect(op.inputs[0], constant=False, what="input")
    filt = ctx.expect(op.inputs[1], rank=2, constant=True, what="weights")
    out = ctx.expect(op.outputs[0], what="output")
    if op.options.get("weights_format", "DEFAULT") != "DEFAULT":
        ctx.fail(f"uses weights format {op.options.get('weights_format')}")
    n_out, depth = filt.shape
    if depth < 1 or n_out < 1 or inp.size % depth or out.size != inp.size // depth * n_out:
        ctx.fail(f"weights {list(filt.shape)} do not fit input {list(inp.shape)} and output {list(out.shape)}")
    if max(inp.size, filt.size, out.size) > MAX_TENSOR:
        ctx.fail(f"has tensors of {max(inp.size, filt.size, out.size)} elements; the kernels take {MAX_TENSOR}")
    (in_s, in_zp), (out_s, out_zp) = qparams(inp), qparams(out)
    if (
        in_s <= 0
        or out_s <= 0
        or len(filt.scale) not in (1, n_out)
        or not np.all(np.isfinite(filt.scale))
        or np.any(filt.scale <= 0)
    ):
        ctx.fail(
            f"has missing or invalid quantization (input scale {in_s}, output scale {out_s}, "
            f"{len(filt.scale)} weight scales)"
        )
    if np.any(np.asarray(filt.zero_point) != 0) or not (-128 <= in_zp <= 127 and -128 <= out_zp <= 127):
        ctx.fail("needs symmetric int8 weights (zero point 0) and int8 zero points")
    bias = None
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        b = ctx.expect(op.inputs[2], ("INT32",), constant=True, what="bias")
        if b.size != n_out:
            ctx.fail(f"bias has {b.size} values for {n_out} outputs")
        bias = ctx.value(op.inputs[2])
    act = op.options.get("fused_activation_function", "NONE")
    if act not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
        ctx.fail(f"has fused activation {act}")
    act_min, act_max = activation_range(act, out_s, out_zp)
    try:
        mults, shifts = fc_multipliers(in_s, filt.scale, out_s, n_out, reference=ctx.reference)
    except ValueError as exc:
        ctx.fail(str(exc))
    p = ctx.struct(
        FC,
        {
            "batches": inp.size // depth,
            "accum_depth": depth,
            "output_depth": n_out,
            "output_offset": out_zp,
            "act_min": act_min,
            "act_max": act_max,
        },
    )
    m, s = ctx.const_array("int32_t", mults, "m"), ctx.const_array("int32_t", shifts, "s")
    weights = np.asarray(ctx.value(op.inputs[1]))
    table = fcw_table(weights, ctx.dsp_table_budget())
    flags = requant_flags(mults, shifts)
    # Without a table the DSP kernel widens every weight: it reads them faster interleaved (fcw_interleave),
    # at no flash cost when this layer is the weights' only reader.
    readers = sum(i == op.inputs[1] for o in ctx.model.ops for i in o.inputs)
    if table is None and n_out >= 4 and depth >= 4 and readers == 1 and op.inputs[1] not in ctx._const_syms:
        flags |= FC_FLAG_INTERLEAVED
        w_ptr = f"(const int8_t *){ctx.dsp_layout_bytes(weights, fcw_interleave(weights))}"
    else:
        w_ptr = ctx.ptr(op.inputs[1])
    fb = _dsp_bias(ctx, weights, folded_bias(weights, bias, -in_zp), flags, table)
    return Lowered(
        f"tinyflow_fully_connected_s8(&{p}, {m}, {s}, {ctx.ptr(op.inputs[0])}, {w_ptr}, "
        f"{fb}, {ctx.ptr(op.outputs[0])})",
        kernels=("fully_connected",),
    )


# -- FULLY_CONNECTED's Cortex-M4 table (firmware/kernels/cortex_m4/fully_connected.c) ----------
FCW_MAGIC = 0x34574346  # "FCW4" little-endian: the tail after the folded bias is a widened weight table
# With batch 1 each weight is read once, so widening it on the device costs as much as the
# multiply; the table trades 2 bytes of flash per weight (on top of the int8 weights, which the
# portable kernel and the remainders read) for a third fewer instructions. A layer keeps the int8
# path past FCW_MAX_BYTES, or past the model's table budget (LowerContext.dsp_table_budget).
FCW_MAX_BYTES = 256 * 1024


def fcw_check(n_out: int, depth: int) -> int:
    """The word after FCW_MAGIC: the weight shape the table was made for (the kernel compares it)."""
    return (n_out << 16) ^ depth


def fcw_table(weights: np.ndarray, budget: int = FCW_MAX_BYTES) -> np.ndarray | None:
    """The Cortex-M4 kernel's widened weights, or None when the layer keeps the int8 path.

    Per block of 4 rows o..o+3 and per 4 inputs i..i+3 (depth rounded down to a multiple of 4;
    the kernel reads the remainder and rows past the last full block from the int8 weights), 8
    words: per row the int16 pairs (w[i], w[i+2]) and (w[i+1], w[i+3]), the order SMLAD pairs
    them with the input word widened by SXTB16 and SXTB16 ROR 8. budget: the bytes of DSP
    tables the model may still add.
    """
    n_out, depth = weights.shape
    blocks, words = n_out // 4, depth // 4
    if blocks == 0 or words == 0 or 32 * blocks * words > min(FCW_MAX_BYTES, budget):
        return None
    w = weights[: 4 * blocks, : 4 * words].astype(np.int64).reshape(blocks, 4, words, 4) & 0xFFFF
    even, odd = w[..., 0] | w[..., 2] << 16, w[..., 1] | w[..., 3] << 16  # [block][row][word]
    pairs = np.stack([even, odd], axis=-1).transpose(0, 2, 1, 3)  # [block][word][row][pair]
    return pairs.reshape(-1).astype(np.uint32).view(np.int32)


# The head's other magic: no table follows, only the flags word (FCQ4).
FCQ_MAGIC = 0x34514346
# Flags word: which requantization applies to every channel, decided here once instead of by a
# scan over the channels on every call (~9 instructions per output channel on the device).
FC_FLAG_FAST = 1  # requant_fast.h tinyflow_m4_fast_ok
FC_FLAG_RIGHT_ONLY = 2  # requant.h tinyflow_m4_right_only
FC_FLAG_INTERLEAVED = 4  # the DSP build's int8 weights are in fcw_interleave's order


def requant_flags(mults, shifts) -> int:
    """The flags word for these channels: the same tests as the Cortex-M4 kernel's scans."""
    m, s = np.asarray(mults, dtype=np.int64), np.asarray(shifts, dtype=np.int64)
    fast = bool(np.all((m != -(2**31)) & (((s >= -31) & (s <= -1)) | ((s == 0) & (m == 0)))))
    right = bool(np.all((s <= 0) & (s >= -31) & (m != -(2**31))))
    return (FC_FLAG_FAST if fast else 0) | (FC_FLAG_RIGHT_ONLY if right else 0)


def fcw_interleave(weights: np.ndarray) -> np.ndarray:
    """The int8 weights in the order the Cortex-M4 kernel's int8 path reads them (same size).

    Each block of 4 rows keeps its place (bytes [4 b depth, 4 (b + 1) depth)); inside it, per 4
    inputs the 4 rows' words one after the other (one LDRD reads two rows), then each row's last
    depth % 4 weights. Rows past the last block keep their order.
    """
    n_out, depth = weights.shape
    blocks, words, rem = n_out // 4, depth // 4, depth % 4
    w = np.asarray(weights, dtype=np.int8)
    body = w[: 4 * blocks, : 4 * words].reshape(blocks, 4, words, 4).transpose(0, 2, 1, 3).reshape(blocks, -1)
    tail = w[: 4 * blocks, 4 * words :].reshape(blocks, 4 * rem)
    return np.concatenate([np.concatenate([body, tail], axis=1).reshape(-1), w[4 * blocks :].reshape(-1)])


def _dsp_bias(ctx, weights: np.ndarray, fbias: np.ndarray, flags: int, table: np.ndarray | None) -> str:
    """The folded bias followed, on DSP builds only (the kernel variant's preprocessor guard), by a
    head: FCW_MAGIC (a table follows) or FCQ_MAGIC (none), the check word and the flags word;
    then fcw_table. The Cortex-M4 kernel reads the head (the portable kernel reads only the bias)."""

    head = [FCQ_MAGIC if table is None else FCW_MAGIC, fcw_check(*weights.shape), flags]
    tail = np.asarray(head, dtype=np.int64).astype(np.uint32).view(np.int32)
    if table is not None:
        tail = np.concatenate([tail, table])
    return ctx.dsp_tail_array("b", fbias, tail)


LOWERINGS = {"FULLY_CONNECTED": lower_fully_connected}
ARITY = {"FULLY_CONNECTED": ("input", "weights", "bias?")}
