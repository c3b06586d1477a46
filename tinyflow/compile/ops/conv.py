"""CONV_2D and DEPTHWISE_CONV_2D (int8 activations, int8 weights, int32 bias) lowerings."""

from __future__ import annotations

import numpy as np

from tinyflow.compile.ops import Lowered
from tinyflow.compile.ops.conv_small import depthwise_as_conv, sc_bias, small_cin_layer
from tinyflow.compile.ops.cstruct import CStruct
from tinyflow.compile.quant import activation_range, check_geometry, conv_multipliers, out_size, padding, qparams

_GEOMETRY = ("batches", "input_h", "input_w", "input_c")
_TAIL = (
    "output_h",
    "output_w",
    "output_c",
    "stride_h",
    "stride_w",
    "dilation_h",
    "dilation_w",
    "pad_h",
    "pad_w",
    "input_offset",
    "output_offset",
    "act_min",
    "act_max",
)
CONV = CStruct(
    "tinyflow_conv_params_t", tuple((f, "int32_t", 0) for f in _GEOMETRY + ("filter_h", "filter_w", "filter_c") + _TAIL)
)
DWCONV = CStruct(
    "tinyflow_dwconv_params_t",
    tuple((f, "int32_t", 0) for f in _GEOMETRY + ("filter_h", "filter_w", "depth_multiplier") + _TAIL),
)


def raster_overlap(p: dict, channels_in: int, channels_out: int) -> int:
    """Bytes output may start after input (Lowered.overlap) for a kernel that writes output pixel
    i (all channels) only after reading what it needs of the input, pixel by pixel in raster order.

    p holds batches, input_h/w, output_h/w, strides, dilations (optional) and pads (a params dict).
    """
    dh, dw = p.get("dilation_h", 1), p.get("dilation_w", 1)
    fh, fw = p["filter_h"], p["filter_w"]

    def first(n_out, stride, pad, dil, taps, size):
        origin = np.arange(n_out, dtype=np.int64) * stride - pad
        f0 = np.where(origin < 0, (-origin + dil - 1) // dil, 0)
        at = origin + f0 * dil
        return at, (f0 < taps) & (at < size)

    ry, vy = first(p["output_h"], p["stride_h"], p["pad_h"], dh, fh, p["input_h"])
    rx, vx = first(p["output_w"], p["stride_w"], p["pad_w"], dw, fw, p["input_w"])
    b = np.arange(p["batches"], dtype=np.int64)[:, None, None]
    reads = ((b * p["input_h"] + ry[None, :, None]) * p["input_w"] + rx[None, None, :]) * channels_in
    big = np.iinfo(np.int64).max // 4
    reads = np.where(vy[None, :, None] & vx[None, None, :], reads, big).reshape(-1)
    suffix = np.minimum.accumulate(reads[::-1])[::-1]
    writes = (np.arange(reads.size, dtype=np.int64) + 1) * channels_out
    return int(min((suffix - writes).min(), big))


def _window(op, ctx, inp, out, fh: int, fw: int) -> dict:
    """Strides, dilations and padding, checked against the model's output shape."""
    o = op.options
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    dh, dw = int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1))
    pad = o.get("padding", "SAME")
    if min(sh, sw, dh, dw) < 1 or pad not in ("SAME", "VALID"):
        ctx.fail(f"has strides ({sh}, {sw}), dilations ({dh}, {dw}) and padding {pad}")
    ih, iw = inp.shape[1], inp.shape[2]
    oh, ow = out_size(pad, ih, fh, sh, dh), out_size(pad, iw, fw, sw, dw)
    if (oh, ow) != (out.shape[1], out.shape[2]) or oh < 1 or ow < 1:
        ctx.fail(
            f"output is {list(out.shape)} but input {list(inp.shape)} with a {fh}x{fw} filter, strides "
            f"({sh}, {sw}) and {pad} padding gives {oh}x{ow}"
        )
    return {
        "stride_h": sh,
        "stride_w": sw,
        "dilation_h": dh,
        "dilation_w": dw,
        "pad_h": padding(sh, dh, ih, fh, oh),
        "pad_w": padding(sw, dw, iw, fw, ow),
        "output_h": oh,
        "output_w": ow,
    }


def _quant(op, ctx, inp, filt, bias_i: int, out, channels: int) -> tuple[dict, str, str, str]:
    """Offsets, activation range and the (multiplier, shift, bias) arrays."""
    (in_s, in_zp), (out_s, out_zp) = qparams(inp), qparams(out)
    if (
        in_s <= 0
        or out_s <= 0
        or len(filt.scale) not in (1, channels)
        or not np.all(np.isfinite(filt.scale))
        or np.any(filt.scale <= 0)
    ):
        ctx.fail(
            f"has missing or invalid quantization (input scale {in_s}, output scale {out_s}, "
            f"{len(filt.scale)} filter scales for {channels} channels)"
        )
    if np.any(np.asarray(filt.zero_point) != 0) or not (-128 <= in_zp <= 127 and -128 <= out_zp <= 127):
        ctx.fail("needs symmetric int8 weights (zero point 0) and int8 zero points")
    try:
        mults, shifts = conv_multipliers(in_s, filt.scale, out_s, channels)
    except ValueError as exc:
        ctx.fail(str(exc))
    act = op.options.get("fused_activation_function", "NONE")
    if act not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
        ctx.fail(f"has fused activation {act}")
    act_min, act_max = activation_range(act, out_s, out_zp)
    bias = "0"
    if bias_i >= 0:
        b = ctx.expect(bias_i, ("INT32",), constant=True, what="bias")
        if b.size != channels:
            ctx.fail(f"bias has {b.size} values for {channels} output channels")
        bias = ctx.ptr(bias_i)
    fields = {"input_offset": -in_zp, "output_offset": out_zp, "act_min": act_min, "act_max": act_max}
    return fields, ctx.const_array("int32_t", mults, "m"), ctx.const_array("int32_t", shifts, "s"), bias


def lower_conv(op, ctx) -> Lowered:
    inp = ctx.expect(op.inputs[0], rank=4, constant=False, what="input")
    filt = ctx.expect(op.inputs[1], rank=4, constant=True, what="filter")
    out = ctx.expect(op.outputs[0], rank=4, what="output")
    oc, fh, fw, fc = filt.shape
    if fc < 1 or inp.shape[3] % fc or oc % (inp.shape[3] // fc) or out.shape[3] != oc or out.shape[0] != inp.shape[0]:
        ctx.fail(f"filter {list(filt.shape)} does not fit input {list(inp.shape)} and output {list(out.shape)}")
    params = {
        "batches": inp.shape[0],
        "input_h": inp.shape[1],
        "input_w": inp.shape[2],
        "input_c": inp.shape[3],
        "filter_h": fh,
        "filter_w": fw,
        "filter_c": fc,
        "output_c": oc,
    }
    params.update(_window(op, ctx, inp, out, fh, fw))
    check_geometry(ctx, params, (inp, filt, out))
    bias_i = op.inputs[2] if len(op.inputs) > 2 else -1
    pw = _pw_layer(params)  # then the bias goes out with the DSP tail, not as the model's tensor
    sc = small_cin_layer(params)  # likewise (conv_small.py): kxk filters on 1-4 input channels
    if (pw or sc) and bias_i >= 0 and ctx.expect(bias_i, ("INT32",), constant=True, what="bias").size != oc:
        ctx.fail(f"bias has {ctx.tensor(bias_i).size} values for {oc} output channels")
    q, m, s, bias = _quant(op, ctx, inp, filt, -1 if pw or sc else bias_i, out, oc)
    params.update(q)
    if pw:
        # The same (multiplier, shift) _quant emitted: pw_lean's blocks carry them per channel pair.
        mults, shifts = conv_multipliers(qparams(inp)[0], filt.scale, qparams(out)[0], oc)
        value = ctx.value(bias_i) if bias_i >= 0 else None
        bias = _pw_bias(ctx, params, ctx.value(op.inputs[1]), value, mults, shifts)
    if sc:
        mults, shifts = conv_multipliers(qparams(inp)[0], filt.scale, qparams(out)[0], oc)
        value = ctx.value(bias_i) if bias_i >= 0 else None
        bias = sc_bias(ctx, params, ctx.value(op.inputs[1]), value, mults, shifts)
    p = ctx.struct(CONV, params)
    return Lowered(
        f"tinyflow_conv_2d_s8(&{p}, {m}, {s}, {ctx.ptr(op.inputs[0])}, {ctx.ptr(op.inputs[1])}, "
        f"{bias}, {ctx.ptr(op.outputs[0])})",
        kernels=("conv_2d",),
        overlap=raster_overlap(params, params["input_c"], oc),
    )


def lower_depthwise(op, ctx) -> Lowered:
    inp = ctx.expect(op.inputs[0], rank=4, constant=False, what="input")
    filt = ctx.expect(op.inputs[1], rank=4, constant=True, what="filter")
    out = ctx.expect(op.outputs[0], rank=4, what="output")
    _, fh, fw, oc = filt.shape
    ic = inp.shape[3]
    dm = oc // ic if ic else 0
    if filt.shape[0] != 1 or dm < 1 or ic * dm != oc or out.shape[3] != oc or out.shape[0] != inp.shape[0]:
        ctx.fail(f"filter {list(filt.shape)} does not fit input {list(inp.shape)} and output {list(out.shape)}")
    if op.options.get("depth_multiplier", dm) != dm:  # 0 is no default: TFLM would compute nothing
        ctx.fail(f"depth_multiplier option {op.options.get('depth_multiplier')} disagrees with the shapes ({dm})")
    if ic == 1 and (lowered := depthwise_as_conv(op, ctx, inp, filt, out)) is not None:
        return lowered  # a CONV_2D in all but name, for the small-input-channel kernel (conv_small.py)
    params = {
        "batches": inp.shape[0],
        "input_h": inp.shape[1],
        "input_w": inp.shape[2],
        "input_c": ic,
        "filter_h": fh,
        "filter_w": fw,
        "depth_multiplier": dm,
        "output_c": oc,
    }
    params.update(_window(op, ctx, inp, out, fh, fw))
    check_geometry(ctx, params, (inp, filt, out))
    bias_i = op.inputs[2] if len(op.inputs) > 2 else -1
    if bias_i >= 0 and ctx.expect(bias_i, ("INT32",), constant=True, what="bias").size != oc:
        ctx.fail(f"bias has {ctx.tensor(bias_i).size} values for {oc} output channels")
    q, m, s, _ = _quant(op, ctx, inp, filt, -1, out, oc)  # the bias goes out with the DSP tail instead
    params.update(q)
    bias = _dsp_bias(ctx, params, ctx.value(op.inputs[1]), ctx.value(bias_i) if bias_i >= 0 else None, inp, filt, out)
    p = ctx.struct(DWCONV, params)
    return Lowered(
        f"tinyflow_depthwise_conv_2d_s8(&{p}, {m}, {s}, {ctx.ptr(op.inputs[0])}, "
        f"{ctx.ptr(op.inputs[1])}, {bias}, {ctx.ptr(op.outputs[0])})",
        kernels=("depthwise_conv_2d",),
        overlap=raster_overlap(params, ic, oc),
    )


# -- DEPTHWISE_CONV_2D's Cortex-M4 tables (firmware/kernels/cortex_m4/dw_block.h) ---------------
DWB_MAGIC = 0x34425744  # "DWB4" little-endian: the tail after the bias is a table of 4-channel blocks
_DWB_TAPS_BOUND = 255 * 128  # |input + input_offset| * |weight|
_DWB_MAX_TAPS = 256  # 2 KB of table per 4 channels; beyond, the general kernel (no such model seen)


def _dwb_check(params: dict) -> int:
    """The word after DWB_MAGIC: the filter shape the table was made for (the kernel compares it)."""
    return (
        (params["depth_multiplier"] << 20) ^ (params["output_c"] << 8) ^ (params["filter_h"] << 4) ^ params["filter_w"]
    )


def _dwb_blocks(params: dict, weights: np.ndarray, bias: np.ndarray, mults, shifts) -> np.ndarray | None:
    """The Cortex-M4 kernel's per-4-channel-block table, or None when its fast path does not apply.

    Per block of channels c..c+3, 20 + 2 * taps int32 (the layout of dwb_block_t): the interior
    bias (doubled bias + 2 * input_offset * sum of the taps); the doubled bias; per channel the
    multiplier and the rounding term 2^(e-1) + output_offset * 2^e; the exponents e = -shift;
    then per tap the weights doubled and widened to int16 pairs (c, c+2), (c+1, c+3). The
    kernel's requantization (SMMLAR, ADD, ASR) equals TFLM's only when every e is in [1, 30], no
    multiplier is negative and the largest accumulator leaves room for the rounding term:
    checked here, once. Depth multiplier 1 or a multiple of 4 (a block reads one input channel).
    """
    oc, dm, taps = params["output_c"], params["depth_multiplier"], params["filter_h"] * params["filter_w"]
    if (dm != 1 and dm % 4) or (params["dilation_h"], params["dilation_w"]) != (1, 1) or oc % 4 or taps > _DWB_MAX_TAPS:
        return None
    e = -np.asarray(shifts, dtype=np.int64)
    m = np.asarray(mults, dtype=np.int64)
    acc = np.abs(bias.astype(np.int64)) + taps * _DWB_TAPS_BOUND
    if e.min() < 1 or e.max() > 30 or m.min() < 0 or (2 * acc).max() >= 2**31:
        return None
    if (acc + (1 << (e - 1)) + (128 << e) + 1).max() >= 2**31:
        return None
    w = weights.reshape(taps, oc).astype(np.int64)  # [tap][channel]
    off, out_off = params["input_offset"], params["output_offset"]
    ib = 2 * bias.astype(np.int64) + 2 * off * w.sum(axis=0)
    rnd = (1 << (e - 1)) + out_off * (1 << e)
    blocks = []
    for c in range(0, oc, 4):
        k = slice(c, c + 4)
        wb = 2 * w[:, k] & 0xFFFF  # doubled int16 lanes
        pairs = np.stack([wb[:, 0] | wb[:, 2] << 16, wb[:, 1] | wb[:, 3] << 16], axis=1).reshape(-1)
        mr = np.stack([m[k], rnd[k]], axis=1).reshape(-1)
        blocks.append(np.concatenate([ib[k], 2 * bias[k].astype(np.int64), mr, e[k], pairs]))
    return np.concatenate(blocks).astype(np.uint32).view(np.int32)


def _dsp_bias(ctx, params: dict, weights, bias, inp, filt, out) -> str:
    """The bias argument: the bias (zeros when the model has none) followed, on DSP builds only
    (the kernel variant's preprocessor guard), by the Cortex-M4 kernel's tail: DWB_MAGIC, a check
    word and the block table, or two zeros when its fast path does not apply (the kernel always
    reads those two words; the portable kernel reads only the bias)."""

    oc = params["output_c"]
    b = np.zeros(oc, dtype=np.int64) if bias is None else np.asarray(bias, dtype=np.int64).reshape(-1)
    mults, shifts = conv_multipliers(qparams(inp)[0], filt.scale, qparams(out)[0], oc)
    table = _dwb_blocks(params, np.asarray(weights), b, mults, shifts)
    if table is not None and 4 * (table.size + 2) > ctx.dsp_table_budget(depthwise=True):
        table = None  # past the model's flash budget for tables: the kernel's int8 path
    head = [0, 0] if table is None else [DWB_MAGIC, _dwb_check(params)]
    tail = np.concatenate(
        [np.asarray(head, dtype=np.int64).astype(np.uint32).view(np.int32), [] if table is None else table]
    )
    return ctx.dsp_tail_array("dwb", b, tail, depthwise=True)


# -- CONV_2D's Cortex-M4 pointwise table (firmware/kernels/cortex_m4/pointwise.h pairs_table) -----
PWT_MAGIC = 0x34545750  # "PWT4" little-endian: the tail after the bias is the widened filter


def _pw_layer(params: dict) -> bool:
    """The layers whose bias the Cortex-M4 kernel reads a tail after: pointwise_pairs_ok with two
    or more channels (the kernel tests the same)."""
    return (
        params["filter_h"] == params["filter_w"] == 1
        and params["filter_c"] == params["input_c"]
        and params["pad_h"] == params["pad_w"] == 0
        and params["input_c"] % 4 == 0
        and params["input_c"] <= 288
        and params["output_c"] >= 2
    )


def pw_table(weights: np.ndarray, budget: int) -> np.ndarray | None:
    """Per pair of channels (oc, oc + 1; an odd last channel stays int8) and per 4 inputs, 4 words:
    each channel's int16 pairs (w0, w2), (w1, w3), the order SMLAD takes them with the widened
    input pairs. None when it would take more than budget bytes (the model's DSP table budget)."""
    oc, k = weights.shape[0], int(np.prod(weights.shape[1:]))
    pairs, words = oc // 2, k // 4
    if 16 * pairs * words > budget:
        return None
    w = weights.reshape(oc, k)[: 2 * pairs].astype(np.int64).reshape(pairs, 2, words, 4) & 0xFFFF
    even, odd = w[..., 0] | w[..., 2] << 16, w[..., 1] | w[..., 3] << 16  # [pair][channel][word]
    return np.stack([even, odd], axis=-1).transpose(0, 2, 1, 3).reshape(-1).astype(np.uint32).view(np.int32)


def pw_check(params: dict) -> int:
    return (params["output_c"] << 16) ^ params["input_c"]


def _pw_bias(ctx, params: dict, weights, bias, mults, shifts) -> str:
    """The bias (zeros when the model has none) followed, on DSP builds only, by pw_lean's blocks
    when it proves them exact, else by PWT_MAGIC, a check word and pw_table, or two zeros
    when the table does not fit the budget."""
    from tinyflow.compile.ops.pw_lean import pw_lean  # here: it builds on pw_table

    oc = params["output_c"]
    b = np.zeros(oc, dtype=np.int64) if bias is None else np.asarray(bias, dtype=np.int64).reshape(-1)
    weights = np.asarray(weights)
    lean = pw_lean(params, weights, b, mults, shifts, ctx.dsp_table_budget())
    if lean is not None:
        return ctx.dsp_tail_array("pwb", b, lean)
    table = pw_table(weights, ctx.dsp_table_budget())
    head = np.asarray([0, 0] if table is None else [PWT_MAGIC, pw_check(params)], dtype=np.int64)
    tail = head.astype(np.uint32).view(np.int32)
    if table is not None:
        tail = np.concatenate([tail, table])
    return ctx.dsp_tail_array("pwb", b, tail)


LOWERINGS = {"CONV_2D": lower_conv, "DEPTHWISE_CONV_2D": lower_depthwise}
ARITY = {"CONV_2D": ("input", "filter", "bias?"), "DEPTHWISE_CONV_2D": ("input", "filter", "bias?")}
