"""SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND: the converter's wrapping of a dilated convolution.

When the TFLite converter cannot fold a dilation into CONV_2D / DEPTHWISE_CONV_2D (a Keras model
converted with a dynamic batch, `from_keras_model`), it emits SPACE_TO_BATCH_ND -> conv ->
BATCH_TO_SPACE_ND: the input's block-grid phases become batches, an undilated conv runs on each,
and the results are interleaved back. Both ops are pure data movement (TFLM
reference_ops::SpaceToBatchND / BatchToSpaceND, 3-D or 4-D NHWC); block shape and
paddings/crops must be constants, and every size is checked here, on the host, before the
kernel trusts it.

TFLM pads SPACE_TO_BATCH_ND with 0, not with the tensor's zero point (LiteRT pads with the zero
point), so the padded border is not "real zero" for an int8 tensor whose zero point is not 0.
The compiled kernel follows TFLM, the reference tinyflow is bit-exact with.
"""

from __future__ import annotations

import math

import numpy as np

from tinyflow.compile.ops.cstruct import CStruct
from tinyflow.compile.quant import MAX_GEOMETRY, MAX_TENSOR
from tinyflow.errors import ModelError
from tinyflow.tflite.dtypes import BY_NAME

SPACE_BATCH = CStruct(
    "tinyflow_space_batch_params_t",
    tuple(
        (f, "int32_t", 0)
        for f in (
            "element_bytes",
            "input_batch",
            "input_h",
            "input_w",
            "output_batch",
            "output_h",
            "output_w",
            "depth",
            "block_h",
            "block_w",
            "before_h",
            "before_w",
        )
    )
    + (("pad_value", "uint8_t", 4),),
)
_MALFORMED = "The model is malformed; re-export it from the converter."
_TYPES = ("INT8", "FLOAT32")  # the element types TFLM's kernels take


def _fail(message: str) -> None:
    raise ModelError(message, _MALFORMED)


def _nhwc(shape) -> list[int]:
    """A 3-D (N, H, C) or 4-D (N, H, W, C) shape as 4 dims, checked against the kernels' bounds."""
    dims = [int(d) for d in shape]
    if len(dims) not in (3, 4):
        _fail(f"input shape {dims} has rank {len(dims)}; SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND take rank 3 or 4")
    dims = dims if len(dims) == 4 else [dims[0], dims[1], 1, dims[2]]
    if min(dims) < 1 or max(dims) > MAX_GEOMETRY:
        _fail(f"input shape {list(shape)} has a dimension outside 1..{MAX_GEOMETRY}")
    return dims


def _block_and_pairs(shape, block, pairs, what: str) -> tuple[list[int], list[list[int]]]:
    """Block shape (2 values) and before/after pairs (2x2) for the spatial dims, 3-D padded to 4-D."""
    spatial = len(shape) - 2
    block = np.asarray(block).reshape(-1)
    pairs = np.asarray(pairs)
    if block.size != spatial or pairs.size != 2 * spatial:
        _fail(
            f"block shape {block.tolist()} and {what} {pairs.tolist()} do not match the {spatial} spatial "
            f"dimension{'s' if spatial > 1 else ''} of input shape {list(shape)}"
        )
    if not (np.issubdtype(block.dtype, np.integer) and np.issubdtype(pairs.dtype, np.integer)):
        _fail(f"block shape and {what} must be integers, got {block.dtype} and {pairs.dtype}")
    b = [int(v) for v in block] + [1] * (2 - spatial)
    p = [[int(a), int(z)] for a, z in pairs.reshape(-1, 2)] + [[0, 0]] * (2 - spatial)
    if min(b) < 1 or max(b) > MAX_GEOMETRY:
        _fail(f"block shape {block.tolist()} has a value outside 1..{MAX_GEOMETRY}")
    if min(min(q) for q in p) < 0 or max(max(q) for q in p) > MAX_GEOMETRY:
        _fail(f"{what} {pairs.tolist()} has a value outside 0..{MAX_GEOMETRY}")
    return b, p


def _params(es: int, dims_in, dims_out, block, before) -> dict:
    if math.prod(dims_out) > MAX_TENSOR or math.prod(dims_in) > MAX_TENSOR:
        _fail(f"a {dims_in} -> {dims_out} tensor exceeds the compiled kernels' {MAX_TENSOR} elements")
    return {
        "element_bytes": es,
        "input_batch": dims_in[0],
        "input_h": dims_in[1],
        "input_w": dims_in[2],
        "output_batch": dims_out[0],
        "output_h": dims_out[1],
        "output_w": dims_out[2],
        "depth": dims_in[3],
        "block_h": block[0],
        "block_w": block[1],
        "before_h": before[0],
        "before_w": before[1],
        "pad_value": [0, 0, 0, 0],  # TFLM pads with 0 (see the module docstring)
    }


def space_to_batch(shape, block, paddings, element_bytes: int = 1) -> tuple[dict, list[int]]:
    """(tinyflow_space_batch_params_t fields, output shape in the input's rank) of SPACE_TO_BATCH_ND."""
    n, h, w, c = _nhwc(shape)
    b, p = _block_and_pairs(shape, block, paddings, "paddings")
    padded = (h + p[0][0] + p[0][1], w + p[1][0] + p[1][1])
    if padded[0] % b[0] or padded[1] % b[1]:
        _fail(f"padded spatial size {list(padded[: len(shape) - 2])} is not a multiple of block shape {b}")
    out = [n * b[0] * b[1], padded[0] // b[0], padded[1] // b[1], c]
    if out[0] > MAX_GEOMETRY:
        _fail(f"output batch {out[0]} exceeds {MAX_GEOMETRY}")
    params = _params(element_bytes, [n, h, w, c], out, b, (p[0][0], p[1][0]))
    return params, out if len(shape) == 4 else [out[0], out[1], c]


def batch_to_space(shape, block, crops, element_bytes: int = 1) -> tuple[dict, list[int]]:
    """(tinyflow_space_batch_params_t fields, output shape in the input's rank) of BATCH_TO_SPACE_ND."""
    n, h, w, c = _nhwc(shape)
    b, p = _block_and_pairs(shape, block, crops, "crops")
    if n % (b[0] * b[1]):
        _fail(f"input batch {n} is not a multiple of the block size {b[0] * b[1]} (block shape {b})")
    out = [n // (b[0] * b[1]), h * b[0] - p[0][0] - p[0][1], w * b[1] - p[1][0] - p[1][1], c]
    if out[1] < 1 or out[2] < 1:
        _fail(f"crops {[q for q in p[: len(shape) - 2]]} remove the whole {h * b[0]}x{w * b[1]} output")
    params = _params(element_bytes, [n, h, w, c], out, b, (p[0][0], p[1][0]))
    return params, out if len(shape) == 4 else [out[0], out[1], c]


def output_shape(op, shape, values: dict) -> list[int] | None:
    """The output shape op `op` computes from an input of `shape`, or None when its block shape or
    paddings/crops are not constants (the lowering then says so). Raises ModelError when they are bad."""
    block, pairs = values.get(op.inputs[1]), values.get(op.inputs[2])
    if block is None or pairs is None:
        return None
    fn = space_to_batch if op.name == "SPACE_TO_BATCH_ND" else batch_to_space
    return fn(shape, block, pairs)[1]


def lower(op, ctx):
    """SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND with constant block shape and paddings/crops."""
    from tinyflow.compile.ops import Lowered, checks

    (x, *_), y = checks.io(ctx, op, 3)
    checks.types(ctx, (x, y), set(_TYPES))
    if x.type_name != y.type_name:
        ctx.fail("changes the element type", checks.MALFORMED)
    what = "paddings" if op.name == "SPACE_TO_BATCH_ND" else "crops"
    block = checks.constant(ctx, op.inputs[1], "block shape")
    pairs = checks.constant(ctx, op.inputs[2], what)
    fn = space_to_batch if op.name == "SPACE_TO_BATCH_ND" else batch_to_space
    params, out = checks.guarded(ctx, fn, x.shape, block, pairs, BY_NAME[x.type_name].itemsize)
    if list(y.shape) != out:
        ctx.fail(f"maps {list(x.shape)} to {out} but declares {list(y.shape)}", checks.MALFORMED)
    stem = op.name.lower()
    call = (
        f"tinyflow_{stem}(&{ctx.struct(SPACE_BATCH, params, 'sb')}, "
        f"{ctx.ptr(op.inputs[0], 'int8_t')}, {ctx.ptr(op.outputs[0], 'int8_t')})"
    )
    return Lowered(call, (stem,))


LOWERINGS = {"SPACE_TO_BATCH_ND": lower, "BATCH_TO_SPACE_ND": lower}
ARITY = {
    "SPACE_TO_BATCH_ND": ("input", "block_shape", "paddings"),
    "BATCH_TO_SPACE_ND": ("input", "block_shape", "crops"),
}
