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
    fb = ctx.const_array("int32_t", folded_bias(ctx.value(op.inputs[1]), bias, -in_zp), "b")
    return Lowered(
        f"tinyflow_fully_connected_s8(&{p}, {m}, {s}, {ctx.ptr(op.inputs[0])}, {ctx.ptr(op.inputs[1])}, "
        f"{fb}, {ctx.ptr(op.outputs[0])})",
        kernels=("fully_connected",),
    )


LOWERINGS = {"FULLY_CONNECTED": lower_fully_connected}
ARITY = {"FULLY_CONNECTED": ("input", "weights", "bias?")}
