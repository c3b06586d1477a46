"""ADD int8: TFLM's CalculateOpDataAdd on the host; the device runs tinyflow_add_s8."""

from __future__ import annotations

from tinyflow.compile.ops.shapes import broadcast_plan
from tinyflow.compile.ops.tflm_math import activation_range, f32, mbqm, quantize_multiplier

# Outputs at least this large get the per-input tables (2 x 1 KiB of flash, ~3x fewer cycles).
LUT_MIN_ELEMENTS = 1024


def prepare(in1: tuple[float, int], in2: tuple[float, int], out: tuple[float, int], activation="NONE") -> dict:
    """tinyflow_add_params_t fields from (scale, zero_point) of both inputs and the output."""
    s1, s2, so = float(f32(in1[0])), float(f32(in2[0])), float(f32(out[0]))
    left_shift = 20
    twice_max = 2 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << left_shift) * so))
    act_min, act_max = activation_range(activation, out[0], out[1])
    return {
        "left_shift": left_shift,
        "input1_offset": -int(in1[1]),
        "input1_multiplier": m1,
        "input1_shift": sh1,
        "input2_offset": -int(in2[1]),
        "input2_multiplier": m2,
        "input2_shift": sh2,
        "output_offset": int(out[1]),
        "output_multiplier": mo,
        "output_shift": sho,
        "act_min": act_min,
        "act_max": act_max,
    }


def tables(p: dict) -> tuple[list[int], list[int]]:
    """Each input's rescaled value for every int8 x (index x + 128), exactly as AddFunc computes it."""

    def table(offset, multiplier, shift):
        return [mbqm((x + offset) * (1 << p["left_shift"]), multiplier, shift) for x in range(-128, 128)]

    return (
        table(p["input1_offset"], p["input1_multiplier"], p["input1_shift"]),
        table(p["input2_offset"], p["input2_multiplier"], p["input2_shift"]),
    )


def plan(shape1, shape2, out_shape) -> dict:
    """tinyflow_broadcast_t fields."""
    return broadcast_plan(shape1, shape2, out_shape, "ADD")


def lower(op, ctx):
    """ADD int8 -> tinyflow_add_s8 (broadcasting up to 6 dims)."""
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
    args = f"{ctx.ptr(op.inputs[0], 'int8_t')}, {ctx.ptr(op.inputs[1], 'int8_t')}, {ctx.ptr(op.outputs[0], 'int8_t')}"
    structs = f"&{ctx.struct(cstruct.ADD, p, 'add')}, &{ctx.struct(cstruct.BROADCAST, bc, 'bcast')}"
    if checks.elements(y) >= LUT_MIN_ELEMENTS:
        t1, t2 = tables(p)
        call = (
            f"tinyflow_add_s8_lut({structs}, {ctx.const_array('int32_t', t1, 'add_lut')}, "
            f"{ctx.const_array('int32_t', t2, 'add_lut')}, {args})"
        )
    else:
        call = f"tinyflow_add_s8({structs}, {args})"
    # One candidate only: a planner taking both pairs would overlap the two inputs.
    same = [i for i, t in enumerate((a, b)) if tuple(t.shape) == tuple(y.shape) and t.type_name == y.type_name]
    return Lowered(call, ("add", "fixedpoint"), inplace=((same[0], 0),) if same else ())


LOWERINGS = {"ADD": lower}
ARITY = {"ADD": ("input1", "input2")}
