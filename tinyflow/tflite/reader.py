"""Read a .tflite file into a small, validated view (see tinyflow.tflite for the API).

We parse with `ai_edge_litert.schema_py_generated`: generated flatbuffer code for the TFLite
schema, shipped in a field-standard package we already pin, so field names cannot drift and no
TensorFlow is needed. Its object API (`ModelT.InitFromPackedBuf`) unpacks VWW in ~12 ms.

Hostile bytes: the flatbuffers library does no verification, so we (1) check the identifier,
(2) walk the table vectors once with an element budget proportional to the file size (shared
or overlapping tables could otherwise make unpacking quadratic), (3) unpack, converting whatever
the library raises into ModelError, and (4) validate indices, shapes and buffer sizes.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinyflow.errors import ModelError
from tinyflow.inputs import read_regular
from tinyflow.tflite.budget import HINT as _HINT
from tinyflow.tflite.budget import check_activation_sizes as _check_activation_sizes
from tinyflow.tflite.budget import check_budget
from tinyflow.tflite.dtypes import NUMPY_NAMES as _NUMPY  # TensorType name -> numpy dtype name; INT4 unpacked to int8

MAX_ELEMENTS = 1 << 31  # a tensor larger than this cannot be a microcontroller model
# The flatbuffer format caps a .tflite at 2 GiB; a microcontroller model is far below this ceiling.
MAX_MODEL_BYTES = 512 << 20

# Option fields whose int value names a member of a schema enum class.
_ENUM_FIELDS = {
    "fused_activation_function": "ActivationFunctionType",
    "padding": "Padding",
    "weights_format": "FullyConnectedOptionsWeightsFormat",
    "out_type": "TensorType",
    "output_type": "TensorType",
    "in_data_type": "TensorType",
    "out_data_type": "TensorType",
    "kernel_type": "LSTMKernelType",
    "mode": "MirrorPadMode",
}


def _schema():
    import ai_edge_litert.schema_py_generated as schema  # lazy: only when a model is read

    return schema


@functools.lru_cache(maxsize=None)
def _names(enum_name: str) -> dict[int, str]:
    enum = getattr(_schema(), enum_name, None)
    return {v: k for k, v in vars(enum).items() if not k.startswith("_")} if enum else {}


def _snake(name: str) -> str:
    out = "".join("_" + c.lower() if c.isupper() else c for c in name)
    return out.lstrip("_")


def _text(value) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, (bytes, bytearray)) else str(value)


@dataclass
class Tensor:
    """One tensor of subgraph 0; `data` is the constant's values (a read-only view) or None."""

    index: int
    name: str
    shape: tuple[int, ...]
    type_name: str
    dtype: np.dtype
    data: np.ndarray | None
    scale: np.ndarray
    zero_point: np.ndarray
    quantized_dimension: int
    nbytes: int
    is_variable: bool = False
    shape_signature: tuple[int, ...] = ()  # -1 marks a dynamic dimension; equals shape when static

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


@dataclass
class Op:
    """One operator of subgraph 0, in execution order."""

    index: int
    name: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: dict[str, Any] = field(default_factory=dict)
    version: int = 1


@dataclass
class TfliteModel:
    """A parsed, validated .tflite model (subgraph 0); see the tinyflow.tflite docstring."""

    data: bytes
    raw: Any
    ops: list[Op]
    tensors: list[Tensor]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    description: str
    num_subgraphs: int = 1

    def op_names(self) -> list[str]:
        """Op names in execution order."""
        return [op.name for op in self.ops]

    def all_op_names(self) -> list[str]:
        """Op names of every subgraph (WHILE/IF bodies too), subgraph 0 first."""
        codes = self.raw.operatorCodes or []
        names = self.op_names()
        for sg in (self.raw.subgraphs or [])[1:]:
            for o in sg.operators if sg is not None and sg.operators else []:
                if o is None or not 0 <= o.opcodeIndex < len(codes) or codes[o.opcodeIndex] is None:
                    raise ModelError(
                        f"An operator of a subgraph refers to operator code "
                        f"{None if o is None else o.opcodeIndex} but the model has {len(codes)}",
                        _HINT,
                    )
                names.append(_code_name(codes[o.opcodeIndex]))
        return names

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def read_model(source: bytes | bytearray | memoryview | str | os.PathLike) -> TfliteModel:
    """Parse .tflite bytes (or a file path) into a TfliteModel.

    Raises:
        ModelError: the file is missing, not a .tflite, truncated, or inconsistent.
    """
    data = _load(source)
    raw = _unpack(data)
    if not raw.subgraphs or raw.subgraphs[0] is None:
        raise ModelError("The .tflite model has no subgraph", _HINT)
    buffers = raw.buffers or []
    sg = raw.subgraphs[0]
    unpacked: dict[tuple[int, int], np.ndarray] = {}  # INT4 buffers unpack once, however many tensors share them
    tensors = [_tensor(i, t, buffers, data, unpacked) for i, t in enumerate(sg.tensors or [])]
    _check_activation_sizes(tensors, "")
    for k, other in enumerate(raw.subgraphs[1:], start=1):  # WHILE/IF bodies: TFLM allocates them too
        if other is not None:
            _check_activation_sizes(
                [_tensor(i, t, buffers, data, {}) for i, t in enumerate(other.tensors or [])], f" of subgraph {k}"
            )
    n = len(tensors)
    ops = [_op(i, o, raw.operatorCodes or [], n) for i, o in enumerate(sg.operators or [])]
    inputs = _indices(sg.inputs, n, "subgraph input", allow_absent=False)
    outputs = _indices(sg.outputs, n, "subgraph output", allow_absent=False)
    _check_graph(ops, inputs, tensors)
    return TfliteModel(
        data=data,
        raw=raw,
        ops=ops,
        tensors=tensors,
        inputs=inputs,
        outputs=outputs,
        description=_text(raw.description),
        num_subgraphs=len(raw.subgraphs),
    )


def read_model_file(path: str | os.PathLike) -> bytes:
    """The bytes of the model file `path`: every verb reads a model through this.

    Raises:
        ModelError: missing or unreadable, not a regular file (a FIFO, /dev/zero, a directory),
            or larger than MAX_MODEL_BYTES.
    """
    return read_regular(path, "Model file", MAX_MODEL_BYTES, ModelError)


def _load(source) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    return read_model_file(source)


def _unpack(data: bytes):
    if len(data) < 8:
        raise ModelError(f"Not a .tflite file, or a truncated one: only {len(data)} bytes", _HINT)
    ident = data[4:8]
    if data[:4] == b"PK\x03\x04":  # a zip archive: most likely a .keras model given where a .tflite belongs
        raise ModelError(
            "Not a .tflite file: it is a zip archive (a .keras model?)",
            "Convert it first: tinyflow quantize MODEL.keras -d DATA -o MODEL_int8.tflite.",
        )
    if ident != b"TFL3":
        raise ModelError(f"Not a .tflite file: identifier {ident!r}, expected b'TFL3'", _HINT)
    schema = _schema()
    try:
        check_budget(schema.Model.GetRootAs(data, 0), len(data))
        return schema.ModelT.InitFromPackedBuf(data, 0)
    except ModelError:
        raise
    except Exception as exc:  # the flatbuffers library raises struct.error, IndexError, ValueError...
        raise ModelError(
            f"The .tflite file is malformed or truncated ({len(data)} bytes): {type(exc).__name__}: {exc}", _HINT
        ) from None


def _indices(values, n: int, what: str, allow_absent: bool) -> tuple[int, ...]:
    out = tuple(int(v) for v in (values if values is not None else []))
    for v in out:
        if not (0 <= v < n or (allow_absent and v == -1)):
            raise ModelError(
                f"The .tflite model's {what} index {v} is out of range (the subgraph has {n} tensors)", _HINT
            )
    return out


def _tensor(index: int, t, buffers: list, data: bytes, unpacked: dict) -> Tensor:
    name = _text(t.name) or f"tensor_{index}"
    type_name = _names("TensorType").get(t.type)
    if type_name is None or type_name not in _NUMPY:
        raise ModelError(f"Tensor {index} ({name}) has unknown or unsupported type {t.type}", _HINT)
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
    if any(d < 0 for d in shape) or len(shape) > 16:
        raise ModelError(f"Tensor {index} ({name}) has an invalid shape {list(shape)}", _HINT)
    elements = int(np.prod([float(d) for d in shape])) if shape else 1
    if elements > MAX_ELEMENTS:
        raise ModelError(f"Tensor {index} ({name}) has an absurd shape {list(shape)} ({elements} elements)", _HINT)
    itemsize = np.dtype(_NUMPY[type_name]).itemsize if type_name != "STRING" else 1
    nbytes = (elements + 1) // 2 if type_name == "INT4" else elements * itemsize
    if not 0 <= t.buffer < max(len(buffers), 1):
        raise ModelError(
            f"Tensor {index} ({name}) refers to buffer {t.buffer} but the model has {len(buffers)} buffers", _HINT
        )
    blob = _buffer_bytes(buffers[t.buffer], t.buffer, data) if buffers else None
    values = None
    if blob is not None and len(blob) > 0:
        if type_name == "STRING":
            nbytes = len(blob)
        elif len(blob) != nbytes:
            raise ModelError(
                f"Tensor {index} ({name}) of shape {list(shape)} {type_name} needs {nbytes} bytes "
                f"but its buffer holds {len(blob)}",
                _HINT,
            )
        else:
            if type_name == "INT4":
                key = (t.buffer, elements)
                if key not in unpacked:
                    unpacked[key] = _values(blob, type_name, (elements,), elements)
                values = unpacked[key].reshape(shape)
            else:
                values = _values(blob, type_name, shape, elements)
    scale, zero_point, qdim = _quantization(t.quantization, index, name, shape)
    return Tensor(
        index=index,
        name=name,
        shape=shape,
        type_name=type_name,
        dtype=np.dtype(_NUMPY[type_name]),
        data=values,
        scale=scale,
        zero_point=zero_point,
        quantized_dimension=qdim,
        nbytes=nbytes,
        is_variable=bool(t.isVariable),
        shape_signature=_signature(t.shapeSignature, shape),
    )


def _signature(sig, shape: tuple[int, ...]) -> tuple[int, ...]:
    values = tuple(int(d) for d in sig) if sig is not None and len(sig) == len(shape) else ()
    return values if values and all(d == -1 or d >= 0 for d in values) else shape


def _buffer_bytes(buf, index: int, data: bytes) -> np.ndarray | None:
    if buf is None:
        return None
    if buf.data is not None and len(buf.data) > 0:
        return np.asarray(buf.data, dtype=np.uint8)
    # Models over 2 GB keep buffers after the flatbuffer, addressed by offset/size from the file start.
    if buf.offset > 1 and buf.size > 0:
        if buf.offset + buf.size > len(data):
            raise ModelError(
                f"Buffer {index} spans bytes {buf.offset}..{buf.offset + buf.size} of a {len(data)}-byte file", _HINT
            )
        return np.frombuffer(data, dtype=np.uint8, count=buf.size, offset=buf.offset)
    return None


def _values(blob: np.ndarray, type_name: str, shape: tuple[int, ...], elements: int) -> np.ndarray | None:
    if type_name == "STRING":
        return None
    if type_name == "INT4":  # two's-complement nibbles, low nibble first
        pairs = np.stack([blob & 0x0F, blob >> 4], axis=-1).reshape(-1)[:elements].astype(np.int8)
        arr = np.where(pairs > 7, pairs - 16, pairs).astype(np.int8)
    else:
        arr = np.frombuffer(
            blob.tobytes() if not blob.flags.c_contiguous else blob, dtype=np.dtype(_NUMPY[type_name]).newbyteorder("<")
        )
    arr = arr.reshape(shape)
    arr.flags.writeable = False
    return arr


def _quantization(q, index: int, name: str, shape: tuple[int, ...]):
    empty_f, empty_i = np.zeros(0, np.float32), np.zeros(0, np.int64)
    if q is None:
        return empty_f, empty_i, 0
    scale = np.asarray(q.scale if q.scale is not None else empty_f, dtype=np.float32)
    zp = np.asarray(q.zeroPoint if q.zeroPoint is not None else empty_i, dtype=np.int64)
    qdim = int(q.quantizedDimension)
    if len(zp) and len(scale) and len(zp) != len(scale):
        raise ModelError(f"Tensor {index} ({name}) has {len(scale)} scales but {len(zp)} zero points", _HINT)
    # person_detect's biases say dimension 3 on 1-D tensors and TFLM accepts it: only reject a
    # channel count that matches no dimension at all.
    if len(scale) > 1 and not (0 <= qdim < len(shape) and shape[qdim] == len(scale)) and len(scale) not in shape:
        raise ModelError(
            f"Tensor {index} ({name}) of shape {list(shape)} has {len(scale)} per-channel scales "
            f"along dimension {qdim}",
            _HINT,
        )
    return scale, zp, qdim


def _op(index: int, o, opcodes: list, n_tensors: int) -> Op:
    if o is None or not 0 <= o.opcodeIndex < len(opcodes) or opcodes[o.opcodeIndex] is None:
        got = None if o is None else o.opcodeIndex
        raise ModelError(f"Operator {index} refers to operator code {got} but the model has {len(opcodes)}", _HINT)
    code = opcodes[o.opcodeIndex]
    name = _code_name(code)
    return Op(
        index=index,
        name=name,
        inputs=_indices(o.inputs, n_tensors, f"operator {index} ({name}) input", allow_absent=True),
        outputs=_indices(o.outputs, n_tensors, f"operator {index} ({name}) output", allow_absent=False),
        options=_options(o.builtinOptions),
        version=int(code.version),
    )


def _check_graph(ops: list[Op], inputs: tuple[int, ...], tensors: list[Tensor]) -> None:
    """Refuse a subgraph 0 that TFLM cannot run meaningfully, naming the op at fault.

    TFLM runs the ops in file order and does not check this: an op reading a tensor that a later
    op writes (a cycle, or ops out of order) reads memory nobody wrote yet, two writers of one
    tensor or an op overwriting a graph input lose data, and a graph without ops returns its
    arena unwritten. Variable tensors (SVDF/LSTM state) are read before they are written by design.
    """
    if not ops:
        raise ModelError("The .tflite model's subgraph 0 has no operators, so it computes nothing", _HINT)
    writer: dict[int, int] = {}
    graph_inputs = set(inputs)
    for op in ops:
        for t in op.outputs:
            if t in graph_inputs:
                raise ModelError(f"Operator {op.index} ({op.name}) writes tensor {t}, which is a model input", _HINT)
            if t in writer:
                raise ModelError(
                    f"Operator {op.index} ({op.name}) writes tensor {t}, which operator {writer[t]} "
                    "already writes (a tensor has one writer)",
                    _HINT,
                )
            writer[t] = op.index
    for op in ops:
        for t in op.inputs:
            if t >= 0 and writer.get(t, -1) >= op.index and not tensors[t].is_variable:
                raise ModelError(
                    f"Operator {op.index} ({op.name}) reads tensor {t} before operator {writer[t]} writes "
                    "it (a cycle, or operators out of execution order)",
                    _HINT,
                )


def _code_name(code) -> str:
    builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
    name = _names("BuiltinOperator").get(builtin, f"UNKNOWN_{builtin}")
    return f"CUSTOM:{_text(code.customCode)}" if name == "CUSTOM" else name


def _options(opts) -> dict[str, Any]:
    if opts is None:
        return {}
    out: dict[str, Any] = {}
    for key, value in vars(opts).items():
        k = _snake(key)
        if k in _ENUM_FIELDS and isinstance(value, int):
            value = _names(_ENUM_FIELDS[k]).get(value, value)
        elif isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, (bytes, bytearray)):
            value = _text(value)
        elif not isinstance(value, (int, float, bool, str, list, type(None))):
            continue  # nested option tables (StableHLO) are not needed by tinyflow
        out[k] = value
    return out
