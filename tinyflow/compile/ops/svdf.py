"""SVDF int8 (int8 weights_time and state): TFLM's SvdfPrepare on the host.

The activation state is a variable tensor: it must keep its value between inferences and start
filled with its zero point; see lower() for what that asks of the code generator.
"""

from __future__ import annotations

import numpy as np

from tinyflow.compile.ops.tflm_math import quantize_multiplier
from tinyflow.errors import ModelError


def prepare(
    input_shape,
    weights_feature_shape,
    weights_time_shape,
    rank: int,
    input_q,
    weights_feature_scale: float,
    weights_time_scale: float,
    state_q,
    output_q,
) -> dict:
    """tinyflow_svdf_params_t fields."""
    batch, input_size = (int(d) for d in input_shape)
    filters, feat_in = (int(d) for d in weights_feature_shape)
    time_filters, memory = (int(d) for d in weights_time_shape)
    if feat_in != input_size or time_filters != filters or rank < 1 or filters % rank:
        raise ModelError(
            f"SVDF shapes do not fit: input {list(input_shape)}, weights_feature "
            f"{list(weights_feature_shape)}, weights_time {list(weights_time_shape)}, rank {rank}",
            "The model is malformed; re-export it.",
        )
    f = np.float32
    s1 = float(f(input_q[0]) * f(weights_feature_scale) / f(state_q[0]))  # float32 math, as TFLM
    s2 = float(f(state_q[0]) * f(weights_time_scale) / f(output_q[0]))
    m1, sh1 = quantize_multiplier(s1)
    m2, sh2 = quantize_multiplier(s2)
    return {
        "batch": batch,
        "input_size": input_size,
        "filters": filters,
        "rank": int(rank),
        "memory": memory,
        "input_zero_point": int(input_q[1]),
        "state_zero_point": int(state_q[1]),
        "output_zero_point": int(output_q[1]),
        "scale1_multiplier": m1,
        "scale1_shift": sh1,
        "scale2_multiplier": m2,
        "scale2_shift": sh2,
    }


def lower(op, ctx):
    """SVDF int8 with int8 weights_time/state.

    Needs from the code generator (it declares `ctx.supports_variables = True` once it does):
    a variable tensor gets its own static buffer outside the planned arena, `ctx.ptr(i)` points
    at it, and tinyflow_model_init() fills it with its zero point (TFLM's ResetVariableTensors).
    """
    from tinyflow.compile.ops import Lowered, checks, cstruct

    ins, y = checks.io(ctx, op)  # arity checked before (ARITY): bias may be absent (-1)
    if len(ins) != 5 or any(ins[i] is None for i in (0, 1, 2, 4)):
        ctx.fail(
            f"has inputs {list(op.inputs)}, expected input, weights_feature, weights_time, bias, state",
            checks.MALFORMED,
        )
    x, wf, wt, bias, state = ins
    checks.types(ctx, (x, wf, wt, state, y), {"INT8"})
    if bias is not None:
        checks.types(ctx, (bias,), {"INT32"})
    if not state.is_variable:
        ctx.fail(f"state tensor '{state.name}' is not a variable tensor", checks.MALFORMED)
    if not getattr(ctx, "supports_variables", False):
        ctx.fail(
            "needs a persistent state tensor, which this compiler does not place yet",
            "Use --runtime tflm for this model.",
        )
    for i, what in ((1, "weights_feature"), (2, "weights_time")):
        checks.constant(ctx, op.inputs[i], what)
    if len(wf.scale) != 1 or len(wt.scale) != 1:
        ctx.fail("needs per-tensor weight scales", checks.TFLM_HINT)
    if len(x.shape) != 2 or len(wf.shape) != 2 or len(wt.shape) != 2:
        ctx.fail(
            f"needs 2-D input and weights, got {list(x.shape)}, {list(wf.shape)}, {list(wt.shape)}", checks.MALFORMED
        )
    p = checks.guarded(
        ctx,
        prepare,
        x.shape,
        wf.shape,
        wt.shape,
        int(op.options.get("rank", 0)),
        checks.qparams(ctx, x),
        float(wf.scale[0]),
        float(wt.scale[0]),
        checks.qparams(ctx, state),
        checks.qparams(ctx, y),
    )
    units = p["filters"] // p["rank"]
    if checks.elements(state) != p["batch"] * p["filters"] * p["memory"] or checks.elements(y) != p["batch"] * units:
        ctx.fail(f"state {list(state.shape)} or output {list(y.shape)} does not fit the weights", checks.MALFORMED)
    if bias is not None and checks.elements(bias) != units:
        ctx.fail(f"bias has {checks.elements(bias)} values for {units} units", checks.MALFORMED)
    bias_ptr = ctx.ptr(op.inputs[3], "int32_t") if bias is not None else "(const int32_t *)0"
    call = (
        f"tinyflow_svdf_s8(&{ctx.struct(cstruct.SVDF, p, 'svdf')}, {ctx.ptr(op.inputs[0], 'int8_t')}, "
        f"{ctx.ptr(op.inputs[1], 'int8_t')}, {ctx.ptr(op.inputs[2], 'int8_t')}, {bias_ptr}, "
        f"{ctx.ptr(op.inputs[4], 'int8_t')}, {ctx.ptr(op.outputs[0], 'int8_t')})"
    )
    return Lowered(call, ("svdf",))


LOWERINGS = {"SVDF": lower}
ARITY = {"SVDF": ("input", "weights_feature", "weights_time", "bias?", "state")}
