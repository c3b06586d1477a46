"""MUL int8: TFLM's CalculateOpDataMul on the host; the device runs tinyflow_mul_s8."""

from __future__ import annotations

from tinyflow.compile.ops.shapes import broadcast_plan
from tinyflow.compile.ops.tflm_math import activation_range, f32, quantize_multiplier


def prepare(in1: tuple[float, int], in2: tuple[float, int], out: tuple[float, int], activation="NONE") -> dict:
    """tinyflow_mul_params_t fields."""
    real = float(f32(in1[0])) * float(f32(in2[0])) / float(f32(out[0]))
    m, sh = quantize_multiplier(real)
    act_min, act_max = activation_range(activation, out[0], out[1])
    return {
        "input1_offset": -int(in1[1]),
        "input2_offset": -int(in2[1]),
        "output_offset": int(out[1]),
        "output_multiplier": m,
        "output_shift": sh,
        "act_min": act_min,
        "act_max": act_max,
    }


def plan(shape1, shape2, out_shape) -> dict:
    """tinyflow_broadcast_t fields."""
    return broadcast_plan(shape1, shape2, out_shape, "MUL")


def lower(op, ctx):
    """MUL int8 -> tinyflow_mul_s8 (broadcasting up to 6 dims)."""
    from tinyflow.compile.ops import Lowered, checks, cstruct

    (a, b, *_), y = checks.io(ctx, op, 2)
    checks.types(ctx, (a, b, y), {"INT8"})
    p = checks.guarded(
        ctx,
        prepare,
        checks.qparams(ctx, a),
        checks.qparams(ctx, b),
        checks.qparams(ctx, y),
        op.options.get("fused_activation_function", "NONE"),
    )
    bc = checks.guarded(ctx, plan, a.shape, b.shape, y.shape)
    call = (
        f"tinyflow_mul_s8(&{ctx.struct(cstruct.MUL, p, 'mul')}, &{ctx.struct(cstruct.BROADCAST, bc, 'bcast')}, "
        f"{ctx.ptr(op.inputs[0], 'int8_t')}, {ctx.ptr(op.inputs[1], 'int8_t')}, {ctx.ptr(op.outputs[0], 'int8_t')})"
    )
    # One candidate only: a planner taking both pairs would overlap the two inputs.
    same = [i for i, t in enumerate((a, b)) if tuple(t.shape) == tuple(y.shape) and t.type_name == y.type_name]
    return Lowered(call, ("mul", "fixedpoint"), inplace=((same[0], 0),) if same else ())


LOWERINGS = {"MUL": lower}
ARITY = {"MUL": ("input1", "input2")}
