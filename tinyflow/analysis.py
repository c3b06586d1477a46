"""What is in a .tflite: ops, tensors, parameters, MACs, weight bytes. Pure and fast: no
TensorFlow, no runtime (tinyflow.inspection adds the measured arena and the board fit).

    from tinyflow.analysis import analyze
    a = analyze("kws.tflite")          # ModelAnalysis
    a.macs, a.params, a.op_counts, [o.macs for o in a.ops]; a.to_dict()

MACs count one multiply-accumulate per weight use (CONV_2D, DEPTHWISE_CONV_2D,
FULLY_CONNECTED, TRANSPOSE_CONV, BATCH_MATMUL, SVDF); pools count one operation per window
element, element-wise ops (ADD, SUB, MUL...) one per output element, reductions (MEAN, SUM...)
one per input element. Data movement and activations count 0.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from math import prod

from tinyflow.tflite import Op, Tensor, TfliteModel, read_model

# Constant inputs that are shapes, axes, paddings or indices rather than learned parameters.
_NOT_PARAMS = {
    "RESHAPE": (1,),
    "PAD": (1,),
    "PADV2": (1, 2),
    "MIRROR_PAD": (1,),
    "MEAN": (1,),
    "SUM": (1,),
    "REDUCE_MAX": (1,),
    "REDUCE_MIN": (1,),
    "REDUCE_PROD": (1,),
    "REDUCE_ANY": (1,),
    "REDUCE_ALL": (1,),
    "TRANSPOSE": (1,),
    "STRIDED_SLICE": (1, 2, 3),
    "SLICE": (1, 2),
    "EXPAND_DIMS": (1,),
    "TILE": (1,),
    "RESIZE_BILINEAR": (1,),
    "RESIZE_NEAREST_NEIGHBOR": (1,),
    "BROADCAST_TO": (1,),
    "FILL": (0,),
    "TRANSPOSE_CONV": (0,),
    "SPACE_TO_BATCH_ND": (1, 2),
    "BATCH_TO_SPACE_ND": (1, 2),
    "CUMSUM": (1,),
    "ARG_MAX": (1,),
    "ARG_MIN": (1,),
    "SPLIT": (0,),
    "SPLIT_V": (1, 2),
    "GATHER": (1,),
    "GATHER_ND": (1,),
}
_ELEMENTWISE = {"ADD", "SUB", "MUL", "DIV", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM", "ADD_N", "PRELU"}
_REDUCE = {"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD"}
_POOL = {"AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D"}


@dataclass
class OpInfo:
    """One op with its shapes, MACs and the parameters it owns."""

    index: int
    name: str
    inputs: list[tuple[int, ...]]
    output: tuple[int, ...]
    macs: int
    params: int
    weight_bytes: int
    options: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "op": self.name,
            "inputs": [list(s) for s in self.inputs],
            "output": list(self.output),
            "macs": self.macs,
            "params": self.params,
            "weight_bytes": self.weight_bytes,
            "options": self.options,
        }


def op_macs(op: Op, tensors: list[Tensor]) -> int:
    """Multiply-accumulates (or window operations, for pools) of one op; 0 for data movement."""
    shape = lambda i: tensors[op.inputs[i]].shape if len(op.inputs) > i and op.inputs[i] >= 0 else ()  # noqa: E731
    out = prod(tensors[op.outputs[0]].shape) if op.outputs else 0
    name = op.name
    if name == "CONV_2D" and len(shape(1)) == 4:
        return out * prod(shape(1)[1:])  # filter [OC, KH, KW, IC per group]
    if name == "DEPTHWISE_CONV_2D" and len(shape(1)) == 4:
        return out * shape(1)[1] * shape(1)[2]  # filter [1, KH, KW, C * multiplier]
    if name == "FULLY_CONNECTED" and len(shape(1)) == 2:
        return out * shape(1)[1]  # weights [units, depth]
    if name == "TRANSPOSE_CONV" and len(shape(1)) == 4:
        return prod(shape(2)) * prod(shape(1)[:3])  # every input pixel scatters KH*KW*OC products
    if name == "BATCH_MATMUL" and shape(0):
        adj_x = op.options.get("adj_x", False)
        return out * shape(0)[-2 if adj_x else -1]
    if name == "SVDF" and len(shape(1)) == 2 and len(shape(2)) == 2:
        batch = shape(0)[0] if shape(0) else 1
        return batch * (prod(shape(1)) + prod(shape(2)))  # feature weights + time weights
    if name in _POOL:
        return out * int(op.options.get("filter_height", 1)) * int(op.options.get("filter_width", 1))
    if name in _ELEMENTWISE:
        return out
    if name in _REDUCE:
        return prod(shape(0))
    return 0


@dataclass
class ModelAnalysis:
    """Ops, tensors, parameters, MACs and weight bytes of subgraph 0."""

    model: TfliteModel
    ops: list[OpInfo]
    op_counts: dict[str, int]
    params: int
    weight_bytes: int
    constant_bytes: int
    macs: int
    activation_bytes: int

    def to_dict(self) -> dict:
        m = self.model
        return {
            "bytes": len(m.data),
            "sha256": m.sha256,
            "description": m.description,
            "subgraphs": m.num_subgraphs,
            "op_names": m.op_names(),
            "op_counts": self.op_counts,
            "params": self.params,
            "weight_bytes": self.weight_bytes,
            "constant_bytes": self.constant_bytes,
            "macs": self.macs,
            "activation_bytes": self.activation_bytes,
            "inputs": [tensor_dict(m.tensors[i]) for i in m.inputs],
            "outputs": [tensor_dict(m.tensors[i]) for i in m.outputs],
            "ops": [o.to_dict() for o in self.ops],
            "tensors": [tensor_dict(t) for t in m.tensors],
        }


def tensor_dict(t: Tensor) -> dict:
    """A tensor's JSON view: shape, dtype, quantization, constness and size."""
    return {
        "index": t.index,
        "name": t.name,
        "shape": list(t.shape),
        "dtype": t.type_name.lower(),
        "scale": [float(s) for s in t.scale],
        "zero_point": [int(z) for z in t.zero_point],
        "quantized_dimension": t.quantized_dimension,
        "constant": t.is_constant,
        "variable": t.is_variable,
        "bytes": t.nbytes,
        "dynamic_dims": [i for i, d in enumerate(t.shape_signature) if d == -1],
    }


def analyze(model) -> ModelAnalysis:
    """Analyze a .tflite (bytes, path or TfliteModel) without running it."""
    m = model if isinstance(model, TfliteModel) else read_model(model)
    owned: set[int] = set()
    ops = []
    for op in m.ops:
        skip = _NOT_PARAMS.get(op.name, ())
        mine = [
            i
            for k, i in enumerate(op.inputs)
            if i >= 0 and m.tensors[i].is_constant and k not in skip and i not in owned
        ]
        owned.update(mine)
        ops.append(
            OpInfo(
                index=op.index,
                name=op.name,
                inputs=[m.tensors[i].shape for i in op.inputs if i >= 0 and not m.tensors[i].is_constant],
                output=m.tensors[op.outputs[0]].shape if op.outputs else (),
                macs=op_macs(op, m.tensors),
                params=sum(m.tensors[i].size for i in mine),
                weight_bytes=sum(m.tensors[i].nbytes for i in mine),
                options=dict(op.options),
            )
        )
    return ModelAnalysis(
        model=m,
        ops=ops,
        op_counts=dict(collections.Counter(m.op_names())),
        params=sum(o.params for o in ops),
        weight_bytes=sum(o.weight_bytes for o in ops),
        constant_bytes=sum(t.nbytes for t in m.tensors if t.is_constant),
        macs=sum(o.macs for o in ops),
        activation_bytes=sum(t.nbytes for t in m.tensors if not t.is_constant),
    )
