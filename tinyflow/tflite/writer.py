"""Build small .tflite models from numpy arrays and quantization parameters, without TensorFlow.

Used by tests (single-op conformance models, short chains, malformed files for fuzzing) and by
anything that needs a .tflite file it did not get from the converter. Built on the object API of
`ai_edge_litert.schema_py_generated`.

Usage::

    from tinyflow.tflite.writer import ModelBuilder

    mb = ModelBuilder()
    a = mb.tensor([1, 4, 4, 3], "int8", scale=0.05, zero_point=-3)
    b = mb.tensor([1, 1, 1, 3], "int8", scale=0.02, zero_point=5)
    y = mb.tensor([1, 4, 4, 3], "int8", scale=0.07, zero_point=1)
    mb.op("ADD", [a, b], [y], fused_activation_function="RELU")
    tflite_bytes = mb.build(inputs=[a, b], outputs=[y])

- `tensor(shape, dtype, scale=None, zero_point=None, data=None, quantized_dimension=0, name=None,
  variable=False)` adds a tensor and returns its index (`variable`: state such as SVDF's). `dtype` is a numpy dtype or its name ("int8", "float32",
  "int32", ...). `scale`/`zero_point` are scalars (per-tensor) or sequences (per-channel along
  `quantized_dimension`). `data` (any array-like) makes it a constant with its own buffer.
- `op(name, inputs, outputs, **options)` adds an operator by its BuiltinOperator name. Options
  are the snake_case fields of the op's *OptionsT (`fused_activation_function`, `stride_w`,
  `padding`, `axis`, `keep_dims`, `beta`, `new_shape`, ...); enum fields take names ("RELU6",
  "SAME") or ints. Strides and dilations default to 1. Pass `options=<SomethingOptionsT>` to
  set the options object yourself; `inputs` may contain -1 for an omitted optional input.
- `build(inputs, outputs) -> bytes` serializes with file identifier TFL3. `model(inputs,
  outputs)` returns the ModelT instead, so tests can corrupt it before `pack(model)`.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinyflow.errors import UsageError
from tinyflow.tflite.dtypes import BY_NUMPY

# BuiltinOperator name -> (BuiltinOptions member name, *OptionsT class name); ops not listed have no options.
_OPTIONS = {
    "ADD": "AddOptions",
    "SUB": "SubOptions",
    "MUL": "MulOptions",
    "DIV": "DivOptions",
    "CONV_2D": "Conv2DOptions",
    "DEPTHWISE_CONV_2D": "DepthwiseConv2DOptions",
    "FULLY_CONNECTED": "FullyConnectedOptions",
    "AVERAGE_POOL_2D": "Pool2DOptions",
    "MAX_POOL_2D": "Pool2DOptions",
    "L2_POOL_2D": "Pool2DOptions",
    "RESHAPE": "ReshapeOptions",
    "SOFTMAX": "SoftmaxOptions",
    "CONCATENATION": "ConcatenationOptions",
    "PAD": "PadOptions",
    "PADV2": "PadV2Options",
    "MEAN": "ReducerOptions",
    "SUM": "ReducerOptions",
    "REDUCE_MAX": "ReducerOptions",
    "REDUCE_MIN": "ReducerOptions",
    "REDUCE_PROD": "ReducerOptions",
    "QUANTIZE": "QuantizeOptions",
    "DEQUANTIZE": "DequantizeOptions",
    "SHAPE": "ShapeOptions",
    "STRIDED_SLICE": "StridedSliceOptions",
    "PACK": "PackOptions",
    "UNPACK": "UnpackOptions",
    "SQUEEZE": "SqueezeOptions",
    "TRANSPOSE": "TransposeOptions",
    "LEAKY_RELU": "LeakyReluOptions",
    "HARD_SWISH": "HardSwishOptions",
    "SPLIT": "SplitOptions",
    "GATHER": "GatherOptions",
    "TRANSPOSE_CONV": "TransposeConvOptions",
    "EXPAND_DIMS": "ExpandDimsOptions",
    "RESIZE_NEAREST_NEIGHBOR": "ResizeNearestNeighborOptions",
    "RESIZE_BILINEAR": "ResizeBilinearOptions",
    "MAXIMUM": "MaximumMinimumOptions",
    "MINIMUM": "MaximumMinimumOptions",
    "SVDF": "SVDFOptions",
    "SPLIT_V": "SplitVOptions",
    "SPACE_TO_DEPTH": "SpaceToDepthOptions",
    "DEPTH_TO_SPACE": "DepthToSpaceOptions",
    "BATCH_MATMUL": "BatchMatMulOptions",
    "CAST": "CastOptions",
    "GELU": "GeluOptions",
    "CUMSUM": "CumsumOptions",
}

# snake_case option names whose value is an enum: option name -> schema enum class name.
_ENUM_FIELDS = {
    "fused_activation_function": "ActivationFunctionType",
    "padding": "Padding",
    "weights_format": "FullyConnectedOptionsWeightsFormat",
    "out_type": "TensorType",
}
_ONE_BY_DEFAULT = ("strideW", "strideH", "dilationWFactor", "dilationHFactor", "depthMultiplier")


def _schema():
    # Imported lazily so `import tinyflow.tflite.writer` costs nothing until a model is built.
    import ai_edge_litert.schema_py_generated as schema

    return schema


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _tensor_type(dtype: Any) -> int:
    key = np.dtype(dtype).name if not isinstance(dtype, str) else str(np.dtype(dtype))
    if key not in BY_NUMPY:
        raise UsageError(
            f"Tensor dtype {dtype!r} has no .tflite tensor type", f"Use one of: {', '.join(sorted(BY_NUMPY))}."
        )
    return BY_NUMPY[key].code


def _enum_value(enum_name: str, value: Any) -> int:
    if isinstance(value, (int, np.integer)):
        return int(value)
    enum = getattr(_schema(), enum_name)
    if not hasattr(enum, str(value).upper()):
        raise UsageError(
            f"{value!r} is not a {enum_name}",
            f"Use one of: {', '.join(k for k in vars(enum) if not k.startswith('_'))}.",
        )
    return getattr(enum, str(value).upper())


def _make_options(op_name: str, kwargs: dict[str, Any]):
    """The (BuiltinOptions type, *OptionsT object) for `op_name`, filled from snake_case kwargs."""
    schema = _schema()
    explicit = kwargs.pop("options", None)
    member = _OPTIONS.get(op_name)
    if member is None and (kwargs or explicit is not None):
        # Most ops name their options after themselves: ARG_MAX -> ArgMaxOptions.
        guess = "".join(w.capitalize() for w in op_name.split("_")) + "Options"
        member = guess if hasattr(schema.BuiltinOptions, guess) else None
    if member is None:
        if kwargs or explicit is not None:
            raise UsageError(
                f"Op {op_name} takes no options but got {sorted(kwargs) or 'options='}",
                "Drop the options, or pass options= with an OptionsT and add the op to writer._OPTIONS.",
            )
        return 0, None
    options = explicit if explicit is not None else getattr(schema, member + "T")()
    if explicit is None:
        for field in _ONE_BY_DEFAULT:
            if hasattr(options, field):
                setattr(options, field, 1)
    for key, value in kwargs.items():
        attr = _camel(key)
        if not hasattr(options, attr):
            fields = ", ".join(sorted(vars(options)))
            raise UsageError(f"Op {op_name} has no option {key!r}", f"{member} fields are: {fields}.")
        if key in _ENUM_FIELDS:
            value = _enum_value(_ENUM_FIELDS[key], value)
        elif isinstance(value, np.ndarray):
            value = value.tolist()
        setattr(options, attr, value)
    return getattr(schema.BuiltinOptions, member), options


def _quantization(scale, zero_point, quantized_dimension: int):
    if scale is None and zero_point is None:
        return None
    q = _schema().QuantizationParametersT()
    q.scale = [float(s) for s in np.atleast_1d(np.asarray(scale if scale is not None else 1.0, dtype=np.float64))]
    zp = np.atleast_1d(np.asarray(zero_point if zero_point is not None else 0, dtype=np.int64))
    if zp.size == 1 and len(q.scale) > 1:
        zp = np.repeat(zp, len(q.scale))
    q.zeroPoint = [int(z) for z in zp]
    q.quantizedDimension = int(quantized_dimension)
    return q


class ModelBuilder:
    """Accumulates tensors, buffers and operators of a one-subgraph model; see the module docstring."""

    def __init__(self, description: str = "tinyflow.tflite.writer"):
        schema = _schema()
        self._schema = schema
        self.description = description
        self.tensors: list = []
        self.buffers: list = [schema.BufferT()]  # buffer 0: the empty sentinel every non-constant uses
        self.operators: list = []
        self.opcodes: list = []
        self._opcode_index: dict[tuple[str, int], int] = {}

    def tensor(
        self,
        shape: Sequence[int],
        dtype: Any = "int8",
        scale=None,
        zero_point=None,
        data=None,
        quantized_dimension: int = 0,
        name: str | None = None,
        variable: bool = False,
    ) -> int:
        """Add a tensor (a constant if `data` is given, state kept across invokes if `variable`)."""
        t = self._schema.TensorT()
        t.shape = [int(d) for d in shape]
        t.type = _tensor_type(dtype)
        t.name = name or f"t{len(self.tensors)}"
        t.quantization = _quantization(scale, zero_point, quantized_dimension)
        t.isVariable = bool(variable)
        if data is not None:
            arr = np.asarray(data, dtype=np.dtype(dtype))
            if arr.size != int(np.prod(t.shape, dtype=np.int64)):
                raise UsageError(
                    f"Tensor {t.name}: data has {arr.size} elements but shape {t.shape} needs {int(np.prod(t.shape))}",
                    "Reshape the data or fix the shape.",
                )
            buf = self._schema.BufferT()
            buf.data = np.frombuffer(
                np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes(), dtype=np.uint8
            )
            self.buffers.append(buf)
            t.buffer = len(self.buffers) - 1
        self.tensors.append(t)
        return len(self.tensors) - 1

    def _opcode(self, name: str, version: int) -> int:
        code = getattr(self._schema.BuiltinOperator, name, None)
        if code is None:
            raise UsageError(f"Unknown builtin operator {name!r}", "Use a BuiltinOperator name such as ADD or CONV_2D.")
        key = (name, version)
        if key not in self._opcode_index:
            oc = self._schema.OperatorCodeT()
            oc.builtinCode = code
            # Codes past 127 only fit the new int32 field; readers then see the placeholder 127.
            oc.deprecatedBuiltinCode = min(code, 127)
            oc.version = version
            self.opcodes.append(oc)
            self._opcode_index[key] = len(self.opcodes) - 1
        return self._opcode_index[key]

    def op(self, name: str, inputs: Sequence[int], outputs: Sequence[int], version: int = 1, **options) -> int:
        """Add operator `name` (a BuiltinOperator name) reading `inputs`, writing `outputs`; returns its index."""
        name = name.upper()
        o = self._schema.OperatorT()
        o.opcodeIndex = self._opcode(name, version)
        o.inputs = [int(i) for i in inputs]
        o.outputs = [int(i) for i in outputs]
        o.builtinOptionsType, o.builtinOptions = _make_options(name, dict(options))
        self.operators.append(o)
        return len(self.operators) - 1

    def model(self, inputs: Sequence[int], outputs: Sequence[int]):
        """The ModelT (object API) of what was added, with the given graph inputs and outputs."""
        schema = self._schema
        sg = schema.SubGraphT()
        sg.tensors, sg.operators = list(self.tensors), list(self.operators)
        sg.inputs, sg.outputs = [int(i) for i in inputs], [int(i) for i in outputs]
        sg.name = "main"
        m = schema.ModelT()
        m.version = 3
        m.description = self.description
        m.operatorCodes, m.subgraphs, m.buffers = list(self.opcodes), [sg], list(self.buffers)
        return m

    def build(self, inputs: Sequence[int], outputs: Sequence[int]) -> bytes:
        """Serialize to .tflite bytes (file identifier TFL3)."""
        return pack(self.model(inputs, outputs))


def pack(model) -> bytes:
    """Serialize a ModelT to .tflite bytes."""
    import flatbuffers

    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
