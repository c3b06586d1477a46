"""Real shapes of the tensors whose batch SPACE_TO_BATCH_ND changes in a dynamic-batch model.

A Keras model converted with a dynamic batch (`TFLiteConverter.from_keras_model`) declares batch
1 on every activation (shape signature -1). For a dilated convolution the converter then keeps
SPACE_TO_BATCH_ND -> conv -> BATCH_TO_SPACE_ND, and the tensors in between really hold
batch * block_h * block_w images, not the 1 the file declares: a planner sizing buffers from the
declared shapes would let the kernels overrun them. (TFLM's result on such a file differs from
its result on the same model with the real shapes written in, measured with the tflite-micro
wheel; tinyflow computes the latter, what the model means.)

`resolve_batch_shapes` propagates the real batch from each SPACE_TO_BATCH_ND through the ops that
keep dimension 0 to the BATCH_TO_SPACE_ND that divides it back, before lowering. It changes only
dimension 0, only of tensors the file marks dynamic there, and never a model input or output;
every other inconsistency is left for the lowerings, which name the op.
"""

from __future__ import annotations

import math
from dataclasses import replace

from tinyflow.compile.ops import space_batch
from tinyflow.errors import ModelError

# Ops whose output batch is their (largest) activation input's batch.
BATCH_PRESERVING = frozenset(
    {
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "AVERAGE_POOL_2D",
        "MAX_POOL_2D",
        "ADD",
        "MUL",
        "RELU",
        "RELU6",
        "LOGISTIC",
        "TANH",
        "QUANTIZE",
        "DEQUANTIZE",
        "PAD",
        "PADV2",
        "RESHAPE",
        "SQUEEZE",
        "EXPAND_DIMS",
    }
)


def _real_shape(op, tensors, original, values) -> list[int] | None:
    """The shape op `op` really computes, or None when nothing upstream changed it."""
    if op.name in space_batch.LOWERINGS:
        if op.inputs[0] < 0 or op.inputs[0] in values:
            return None
        try:
            return space_batch.output_shape(op, tensors[op.inputs[0]].shape, values)
        except ModelError:
            return None  # the lowering reports it, naming the op
    if op.name not in BATCH_PRESERVING:
        return None
    moved = [tensors[i].shape[0] for i in op.inputs if i >= 0 and tensors[i] is not original[i] and tensors[i].shape]
    out = tensors[op.outputs[0]]
    return [max(moved), *out.shape[1:]] if moved and out.shape else None


def resolve_batch_shapes(model, ops, values: dict):
    """`model` with real batch sizes between SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND (a copy), or
    `model` itself when nothing changes. `ops` are the ops left after constant folding."""
    if not any(op.name in space_batch.LOWERINGS for op in ops):
        return model
    original, tensors = model.tensors, list(model.tensors)
    fixed_io = set(model.inputs) | set(model.outputs)
    for op in ops:
        if len(op.outputs) != 1 or op.outputs[0] < 0:
            continue
        real = _real_shape(op, tensors, original, values)
        t = tensors[op.outputs[0]]
        if real is None or list(t.shape) == real or t.index in fixed_io:
            continue
        dynamic = len(t.shape_signature) == len(t.shape) and len(t.shape) > 0 and t.shape_signature[0] == -1
        if not dynamic or len(real) != len(t.shape) or list(t.shape[1:]) != real[1:]:
            continue  # a static shape that disagrees is malformed: the lowering says so
        tensors[t.index] = replace(t, shape=tuple(real), nbytes=math.prod(real) * t.dtype.itemsize)
    if all(a is b for a, b in zip(tensors, original)):
        return model
    return replace(model, tensors=tensors)
