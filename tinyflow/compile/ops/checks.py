"""Validation shared by the element-wise/activation/shape lowerings (ADD ... RESHAPE).

Each check raises through `ctx.fail`, so the user sees "Op 7 (SOFTMAX): ..." with a hint.
"""

from __future__ import annotations

import math

TFLM_HINT = "Use --runtime tflm for this model, or re-quantize it with the converter's defaults."
MALFORMED = "The model is malformed; re-export it from the converter."


def check_arity(op) -> None:
    """ModelError unless `op` has the inputs its lowering declares (ops.ARITY) and one output.

    Tensor indices are already in range (the reader checks them; -1 only for inputs); here -1 is
    allowed only where the input is optional. Ops tinyflow does not run are left to lowering_for.
    """
    from tinyflow.compile.ops import arity_for
    from tinyflow.errors import ModelError

    spec = arity_for(op.name)
    if spec is None:
        return
    where = f"Op {op.index} ({op.name})"
    if len(op.outputs) != 1:
        raise ModelError(f"{where} has {len(op.outputs)} outputs {list(op.outputs)}; it has exactly 1", MALFORMED)
    ins = list(op.inputs)
    if spec == ("inputs...",):
        if not ins or -1 in ins:
            raise ModelError(f"{where} has inputs {ins}; it takes one or more tensors", MALFORMED)
        return
    required = max((k + 1 for k, n in enumerate(spec) if not n.endswith("?")), default=0)
    if not required <= len(ins) <= len(spec):
        raise ModelError(
            f"{where} has {len(ins)} input{'s' if len(ins) != 1 else ''} {ins}; it takes {_describe(spec)}", MALFORMED
        )
    for k, (i, name) in enumerate(zip(ins, spec)):
        if i < 0 and not name.endswith("?"):
            raise ModelError(f"{where} has no {name} (input {k} is -1); it takes {_describe(spec)}", MALFORMED)


# Window options that size loops: 0 or less makes TFLM's kernels loop zero times or divide by zero
# (TFLM does not check them), so such a model is refused before any lowering.
_WINDOW = ("stride_h", "stride_w")
POSITIVE_OPTIONS = {
    "CONV_2D": _WINDOW + ("dilation_h_factor", "dilation_w_factor"),
    "DEPTHWISE_CONV_2D": _WINDOW + ("dilation_h_factor", "dilation_w_factor", "depth_multiplier"),
    "AVERAGE_POOL_2D": _WINDOW + ("filter_height", "filter_width"),
    "MAX_POOL_2D": _WINDOW + ("filter_height", "filter_width"),
}


def check_options(op) -> None:
    """ModelError unless every stride, dilation, filter size and depth multiplier `op` has is >= 1."""
    from tinyflow.errors import ModelError

    for key in POSITIVE_OPTIONS.get(op.name, ()):
        value = op.options.get(key)
        if key in op.options and not (isinstance(value, int) and value >= 1):
            raise ModelError(f"Op {op.index} ({op.name}) has {key} {value!r}; it must be at least 1", MALFORMED)


def _describe(spec: tuple[str, ...]) -> str:
    names = [f"an optional {n[:-1]}" if n.endswith("?") else n for n in spec]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def io(ctx, op, n_inputs: int | None = None):
    """(input tensors, output tensor) of a single-output op; absent optional inputs are None."""
    if len(op.outputs) != 1 or op.outputs[0] < 0:
        ctx.fail(f"has {len(op.outputs)} outputs, expected 1", MALFORMED)
    if n_inputs is not None and (len(op.inputs) < n_inputs or any(i < 0 for i in op.inputs[:n_inputs])):
        ctx.fail(f"has inputs {list(op.inputs)}, expected {n_inputs}", MALFORMED)
    ins = [ctx.tensor(i) if i >= 0 else None for i in op.inputs]
    return ins, ctx.tensor(op.outputs[0])


def types(ctx, tensors, allowed: set[str]) -> None:
    """Every tensor's type is in `allowed`."""
    for t in tensors:
        if t.type_name not in allowed:
            ctx.fail(
                f"{t.type_name} tensor '{t.name}' is not supported by the compiled runtime "
                f"(supported: {', '.join(sorted(allowed))})",
                TFLM_HINT,
            )


def qparams(ctx, t) -> tuple[float, int]:
    """(scale, zero_point) of a per-tensor quantized tensor."""
    if len(t.scale) != 1 or len(t.zero_point) != 1:
        ctx.fail(f"tensor '{t.name}' needs per-tensor quantization, got {len(t.scale)} scales", TFLM_HINT)
    scale, zp = float(t.scale[0]), int(t.zero_point[0])
    if not (0.0 < scale < float("inf")):
        ctx.fail(f"tensor '{t.name}' has quantization scale {scale}", MALFORMED)
    lo, hi = {"INT8": (-128, 127), "UINT8": (0, 255), "INT16": (-32768, 32767)}.get(t.type_name, (-(2**31), 2**31 - 1))
    if not lo <= zp <= hi:
        ctx.fail(f"tensor '{t.name}' has zero point {zp} outside {t.type_name}", MALFORMED)
    return scale, zp


def same_shape(ctx, a, b) -> None:
    if tuple(a.shape) != tuple(b.shape):
        ctx.fail(f"maps shape {list(a.shape)} to {list(b.shape)}", MALFORMED)


def constant(ctx, i: int, what: str):
    """The constant value of input tensor `i` (numpy), or a failure naming `what`."""
    value = ctx.value(i) if i >= 0 else None
    if value is None:
        ctx.fail(f"needs a constant {what}; it is computed at run time", "Use --runtime tflm for this model.")
    return value


def elements(t) -> int:
    return math.prod(int(d) for d in t.shape)


def guarded(ctx, fn, *args, **kwargs):
    """Call a prepare function, turning its ModelError/ValueError into ctx.fail (names the op)."""
    from tinyflow.errors import ModelError

    try:
        return fn(*args, **kwargs)
    except ModelError as exc:
        ctx.fail(exc.message, exc.hint)
    except (ValueError, OverflowError, ZeroDivisionError) as exc:
        ctx.fail(f"has parameters the kernel cannot take ({exc})", MALFORMED)
