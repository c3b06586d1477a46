"""AVERAGE_POOL_2D and MAX_POOL_2D (int8) lowerings."""

from __future__ import annotations

from tinyflow.compile.ops import Lowered
from tinyflow.compile.ops.conv import raster_overlap
from tinyflow.compile.ops.cstruct import CStruct
from tinyflow.compile.quant import activation_range, check_geometry, out_size, padding, qparams

POOL = CStruct(
    "tinyflow_pool_params_t",
    tuple(
        (f, "int32_t", 0)
        for f in (
            "batches",
            "input_h",
            "input_w",
            "channels",
            "filter_h",
            "filter_w",
            "output_h",
            "output_w",
            "stride_h",
            "stride_w",
            "pad_h",
            "pad_w",
            "act_min",
            "act_max",
        )
    ),
)


def _lower(op, ctx, fn: str) -> Lowered:
    inp = ctx.expect(op.inputs[0], rank=4, constant=False, what="input")
    out = ctx.expect(op.outputs[0], rank=4, what="output")
    o = op.options
    fh, fw = int(o.get("filter_height", 1)), int(o.get("filter_width", 1))
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    pad = o.get("padding", "VALID")
    if min(fh, fw, sh, sw) < 1 or pad not in ("SAME", "VALID"):
        ctx.fail(f"has filter {fh}x{fw}, strides ({sh}, {sw}) and padding {pad}")
    oh, ow = out_size(pad, inp.shape[1], fh, sh), out_size(pad, inp.shape[2], fw, sw)
    if (out.shape[0], oh, ow, out.shape[3]) != (inp.shape[0], out.shape[1], out.shape[2], inp.shape[3]) or oh < 1:
        ctx.fail(f"output is {list(out.shape)} but input {list(inp.shape)} pooled {fh}x{fw} gives {oh}x{ow}")
    (in_s, in_zp), (out_s, out_zp) = qparams(inp), qparams(out)
    if in_s <= 0 or not -128 <= in_zp <= 127:
        ctx.fail(f"has input scale {in_s:g} and zero point {in_zp}; the compiled runtime needs int8 quantization")
    if in_zp != out_zp or abs(in_s - out_s) > 1e-6 * max(in_s, 1e-30):
        ctx.fail(
            f"rescales (input scale {in_s:g} zero point {in_zp}, output {out_s:g} / {out_zp}); "
            "TFLM pools need equal quantization"
        )
    act = o.get("fused_activation_function", "NONE")
    if act not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
        ctx.fail(f"has fused activation {act}")
    act_min, act_max = activation_range(act, out_s, out_zp)
    params = {
        "batches": inp.shape[0],
        "input_h": inp.shape[1],
        "input_w": inp.shape[2],
        "channels": inp.shape[3],
        "filter_h": fh,
        "filter_w": fw,
        "output_h": oh,
        "output_w": ow,
        "stride_h": sh,
        "stride_w": sw,
        "pad_h": padding(sh, 1, inp.shape[1], fh, oh),
        "pad_w": padding(sw, 1, inp.shape[2], fw, ow),
        "act_min": act_min,
        "act_max": act_max,
    }
    check_geometry(ctx, params, (inp, out))
    p = ctx.struct(POOL, params)
    return Lowered(
        f"{fn}(&{p}, {ctx.ptr(op.inputs[0])}, {ctx.ptr(op.outputs[0])})",
        kernels=("pooling",),
        overlap=raster_overlap(params, inp.shape[3], inp.shape[3]),
    )


def lower_average_pool(op, ctx) -> Lowered:
    return _lower(op, ctx, "tinyflow_avg_pool_s8")


def lower_max_pool(op, ctx) -> Lowered:
    return _lower(op, ctx, "tinyflow_max_pool_s8")


LOWERINGS = {"AVERAGE_POOL_2D": lower_average_pool, "MAX_POOL_2D": lower_max_pool}
ARITY = {"AVERAGE_POOL_2D": ("input",), "MAX_POOL_2D": ("input",)}
