"""Hostile .tflite files, generated in code from the third-party corpus and tinyflow's writer.

Every function here returns bytes and is deterministic (seeded), so a failing case reproduces
from its id alone. `MUTATIONS` maps a name to (base model, mutate function, kind): kind "bad"
means the file is broken and every verb must refuse it with a clean error; "odd" means it is a
valid-but-unusual model that a verb may accept (exit 0) or refuse cleanly.
"""

from __future__ import annotations

import functools
import io
import random
import zipfile
from pathlib import Path

import numpy as np

CORPUS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "models"
BASES = {
    "hello": "tflm/hello_world_int8.tflite",
    "speech": "tflm/micro_speech_quantized.tflite",
    "person": "tflm/person_detect.tflite",
}
# Text that escapes a C comment inside an array initializer, a `//` comment, an INI value or a
# Python comment. `tinyflow_pwned` must never appear in generated code outside comments/strings,
# and no generated line may start with `tinyflow_pwned_line` (see checks.payload_problems).
C_COMMENT_PAYLOAD = "x */ 0}}; int tinyflow_pwned = 1; static const tinyflow_tensor_spec_t tinyflow_pad[] = { { /* "
NEWLINE_PAYLOAD = 'x\ntinyflow_pwned_line = 1\n#include "/etc/passwd"\n[env:tinyflow_pwned]\n'


def _schema():
    import ai_edge_litert.schema_py_generated as schema

    return schema


@functools.lru_cache(maxsize=None)
def base_bytes(base: str) -> bytes:
    """The unmodified corpus model `base` (hello, speech, person)."""
    return (CORPUS_DIR / BASES[base]).read_bytes()


def _unpack(base: str):
    return _schema().ModelT.InitFromPackedBuf(base_bytes(base), 0)


def _pack(model) -> bytes:
    from tinyflow.tflite.writer import pack

    return pack(model)


def _op_index(model, name: str) -> int:
    """Index of the first operator of subgraph 0 whose builtin code is `name`."""
    code = getattr(_schema().BuiltinOperator, name)
    for k, op in enumerate(model.subgraphs[0].operators):
        oc = model.operatorCodes[op.opcodeIndex]
        if max(oc.builtinCode, oc.deprecatedBuiltinCode) == code:
            return k
    raise LookupError(name)


def _first_op(name: str):
    def get(m):
        return m.subgraphs[0].operators[_op_index(m, name)]

    return get


def _input(m):
    sg = m.subgraphs[0]
    return sg.tensors[sg.inputs[0]]


def _set(getter, attr, value):
    def mutate(m):
        setattr(getter(m), attr, value)

    return mutate


def _option(op_name: str, field: str, value):
    return _set(lambda m: _first_op(op_name)(m).builtinOptions, field, value)


def _op_inputs(op_name: str, indices: list[int]):
    return _set(_first_op(op_name), "inputs", np.array(indices, dtype=np.int32))


def _names(text: str):
    def mutate(m):
        for k, t in enumerate(m.subgraphs[0].tensors):
            t.name = (text if k % 2 == 0 else f"{text}{k}").encode("utf-8", "surrogatepass")

    return mutate


def _input_name(text: str):
    def mutate(m):
        _input(m).name = text.encode("utf-8")

    return mutate


def _quant(attr, value):
    def mutate(m):
        q = _input(m).quantization
        setattr(q, attr, value)

    return mutate


def _opcode(code: int, custom: bytes | None = None):
    def mutate(m):
        oc = m.operatorCodes[0]
        oc.builtinCode, oc.deprecatedBuiltinCode = code, min(code, 127)
        if custom is not None:
            oc.customCode = custom

    return mutate


def _buffer_short(m):
    sg = m.subgraphs[0]
    weights = sg.tensors[sg.operators[0].inputs[1]]
    buf = m.buffers[weights.buffer]
    buf.data = np.asarray(buf.data)[: max(1, len(buf.data) // 2)]


def _buffer_far(m):
    sg = m.subgraphs[0]
    buf = m.buffers[sg.tensors[sg.operators[0].inputs[1]].buffer]
    buf.data, buf.offset, buf.size = None, 1 << 40, 4096


def _options_wrong_type(m):
    schema = _schema()
    op = m.subgraphs[0].operators[0]
    op.builtinOptionsType, op.builtinOptions = schema.BuiltinOptions.Conv2DOptions, schema.Conv2DOptionsT()


def _cycle(m):
    ops = m.subgraphs[0].operators
    ops[0].inputs = np.array([ops[2].outputs[0], *ops[0].inputs[1:]], dtype=np.int32)


def _two_writers(m):
    ops = m.subgraphs[0].operators
    ops[1].outputs = np.array(ops[0].outputs, dtype=np.int32)


def _subgraph(attr, value):
    def mutate(m):
        setattr(m.subgraphs[0], attr, value)

    return mutate


def _op(k, attr, value):
    def mutate(m):
        op = m.subgraphs[0].operators[k]
        setattr(op, attr, np.array(value, dtype=np.int32) if isinstance(value, list) else value)

    return mutate


def _model(attr, value):
    def mutate(m):
        setattr(m, attr, value)

    return mutate


def _two_subgraphs(m):
    m.subgraphs = [m.subgraphs[0], _unpack("hello").subgraphs[0]]


def _const_input(m):
    sg = m.subgraphs[0]
    sg.inputs = np.array([sg.operators[0].inputs[1]], dtype=np.int32)


_FC = _first_op("FULLY_CONNECTED")

# name -> (base, mutate(ModelT) in place, kind)
MUTATIONS = {
    "op-input-oob": ("hello", _op(0, "inputs", [9999, 6, 5]), "bad"),
    "op-input-neg": ("hello", _op(0, "inputs", [0, -7, 5]), "bad"),
    "op-output-oob": ("hello", _op(0, "outputs", [9999]), "bad"),
    "op-no-outputs": ("hello", _op(0, "outputs", []), "invalid"),
    "sg-input-oob": ("hello", _subgraph("inputs", np.array([9999], dtype=np.int32)), "bad"),
    "sg-output-neg": ("hello", _subgraph("outputs", np.array([-2], dtype=np.int32)), "bad"),
    "zero-inputs": ("hello", _subgraph("inputs", np.array([], dtype=np.int32)), "invalid"),
    "zero-outputs": ("hello", _subgraph("outputs", np.array([], dtype=np.int32)), "invalid"),
    "no-ops": ("hello", _subgraph("operators", []), "invalid"),
    "no-subgraphs": ("hello", _model("subgraphs", []), "bad"),
    "two-subgraphs": ("hello", _two_subgraphs, "odd"),
    "no-buffers": ("hello", _model("buffers", []), "bad"),
    "buffer-oob": ("hello", lambda m: setattr(m.subgraphs[0].tensors[6], "buffer", 9999), "bad"),
    "buffer-short": ("hello", _buffer_short, "bad"),
    "buffer-offset-1tib": ("hello", _buffer_far, "bad"),
    "opcode-index-oob": ("hello", _op(0, "opcodeIndex", 99), "bad"),
    "opcode-9999": ("hello", _opcode(9999), "bad"),
    "opcode-where": ("hello", _opcode(109), "invalid"),  # WHERE where FULLY_CONNECTED was
    "opcode-custom": ("hello", _opcode(32, NEWLINE_PAYLOAD.encode()), "invalid"),
    "version-huge": ("hello", lambda m: setattr(m.operatorCodes[0], "version", 1 << 30), "odd"),
    "fc-missing-weights": ("hello", _op(0, "inputs", [0]), "invalid"),
    "fc-no-inputs": ("hello", _op(0, "inputs", []), "invalid"),
    "fc-no-bias": ("hello", _op(0, "inputs", [0, 6, -1]), "odd"),
    "fc-options-none": ("hello", lambda m: setattr(m.subgraphs[0].operators[0], "builtinOptions", None), "odd"),
    "fc-options-wrong-type": ("hello", _options_wrong_type, "odd"),
    "fc-fused-99": ("hello", _set(lambda m: _FC(m).builtinOptions, "fusedActivationFunction", 99), "compiled"),
    "conv-missing-filter": ("person", _op_inputs("CONV_2D", [51]), "invalid"),
    "conv-stride-0": ("person", _option("CONV_2D", "strideH", 0), "compiled"),
    "dwconv-missing-inputs": ("speech", _op_inputs("DEPTHWISE_CONV_2D", [4]), "invalid"),
    "dwconv-multiplier-0": ("speech", _option("DEPTHWISE_CONV_2D", "depthMultiplier", 0), "compiled"),
    "pool-no-inputs": ("person", _op_inputs("AVERAGE_POOL_2D", []), "invalid"),
    "pool-filter-0": ("person", _option("AVERAGE_POOL_2D", "filterWidth", 0), "compiled"),
    "softmax-no-inputs": ("speech", _op_inputs("SOFTMAX", []), "invalid"),
    "softmax-beta-nan": ("speech", _option("SOFTMAX", "beta", float("nan")), "compiled"),
    "reshape-bad-shape": ("speech", _option("RESHAPE", "newShape", [7, 7]), "odd"),
    "cycle": ("hello", _cycle, "invalid"),
    "two-writers": ("hello", _two_writers, "invalid"),
    "const-input": ("hello", _const_input, "compiled"),
    "neg-dim": ("hello", _set(_input, "shape", [1, -5]), "bad"),
    "zero-dim": ("hello", _set(_input, "shape", [1, 0]), "invalid"),
    "huge-dim": ("hello", _set(_input, "shape", [1, 2**31 - 1]), "bad"),
    "gib-input": ("hello", _set(_input, "shape", [1, 1024, 1024, 1024]), "bad"),
    "overflow-dims": ("hello", _set(_input, "shape", [65536, 65536, 65536, 65536]), "bad"),
    "rank-9": ("hello", _set(_input, "shape", [1] * 9), "compiled"),
    "scalar-input": ("hello", _set(_input, "shape", []), "odd"),
    "dynamic-signature": ("hello", _set(_input, "shapeSignature", [-1, 1]), "odd"),
    "variable-input": ("hello", _set(_input, "isVariable", True), "odd"),
    "input-bool": ("hello", _set(_input, "type", 6), "invalid"),
    "input-float64": ("hello", _set(_input, "type", 11), "invalid"),
    "input-int64": ("hello", _set(_input, "type", 4), "invalid"),
    "input-string": ("hello", _set(_input, "type", 5), "bad"),
    "input-complex": ("hello", _set(_input, "type", 8), "invalid"),
    "input-type-99": ("hello", _set(_input, "type", 99), "bad"),
    "quant-scale-empty": ("hello", _quant("scale", []), "odd"),
    "quant-scale-zero": ("hello", _quant("scale", [0.0]), "compiled"),
    "quant-scale-nan": ("hello", _quant("scale", [float("nan")]), "compiled"),
    "quant-scale-inf": ("hello", _quant("scale", [float("inf")]), "compiled"),
    "quant-scale-neg": ("hello", _quant("scale", [-1.0]), "compiled"),
    "quant-zp-huge": ("hello", _quant("zeroPoint", [10**6]), "compiled"),
    "quant-dim-oob": ("hello", _quant("quantizedDimension", 7), "odd"),
    "names-comment-escape": ("hello", _names(C_COMMENT_PAYLOAD), "odd"),
    "names-newline": ("hello", _names(NEWLINE_PAYLOAD), "odd"),
    "names-nul": ("hello", _names("a\x00b\x00*/"), "odd"),
    "names-unicode": ("hello", _names("\u00fcn\u00ef\u2603\U0001d11e \u202e\u200b"), "odd"),
    "names-quotes-trigraph": ("hello", _names('q"\\??/\n??=define tinyflow_pwned 1\n'), "odd"),
    "names-empty": ("hello", _names(""), "odd"),
    "names-1mb": ("hello", _input_name("n" * (1 << 20)), "odd"),
    "description-payload": ("hello", _model("description", NEWLINE_PAYLOAD + C_COMMENT_PAYLOAD), "odd"),
    "model-version-99": ("hello", _model("version", 99), "odd"),
}


@functools.lru_cache(maxsize=None)
def mutated(name: str) -> bytes:
    """The bytes of mutation `name` (see MUTATIONS)."""
    base, mutate, _ = MUTATIONS[name]
    model = _unpack(base)
    mutate(model)
    return _pack(model)


def _rand(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def _keras_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("metadata.json", '{"keras_version": "3.10.0"}')
        z.writestr("config.json", '{"class_name": "Sequential"}')
        z.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + bytes(64))
    return buf.getvalue()


def _poke(data: bytes, offset: int, value: int) -> bytes:
    out = bytearray(data)
    out[offset : offset + 4] = value.to_bytes(4, "little")
    return bytes(out)


def _flip(data: bytes, seed: int, count: int) -> bytes:
    rng, out = random.Random(seed), bytearray(data)
    for _ in range(count):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def _byte_cases() -> dict[str, tuple]:
    h = functools.partial(base_bytes, "hello")  # read when a case is set up, not at import
    return {
        "empty": (lambda: b"", "bad"),
        "trunc-4": (lambda: h()[:4], "bad"),
        "trunc-8": (lambda: h()[:8], "bad"),
        "trunc-64": (lambda: h()[:64], "bad"),
        "trunc-half": (lambda: h()[: len(h()) // 2], "bad"),
        "trunc-minus-1": (lambda: h()[:-1], "odd"),
        "random-100": (lambda: _rand(100, 1), "bad"),
        "random-4k": (lambda: _rand(4096, 2), "bad"),
        "random-tfl3": (lambda: _rand(4, 3) + b"TFL3" + _rand(4088, 4), "bad"),
        "zeros-4k": (lambda: bytes(4096), "bad"),
        "keras-zip": (_keras_zip, "bad"),
        "text": (lambda: b"this is not a model\n", "bad"),
        "root-offset-past-end": (lambda: _poke(h(), 0, 0x7FFFFFF0), "bad"),
        "vtable-offset-huge": (lambda: _poke(h(), 8, 0x7FFFFFF0), "odd"),
        "vector-length-huge": (lambda: _poke(h(), 32, 0x7FFFFFF0), "odd"),
        "bitflip-a": (lambda: _flip(h(), 11, 4), "odd"),
        "bitflip-b": (lambda: _flip(h(), 12, 16), "odd"),
        "bitflip-c": (lambda: _flip(h(), 13, 64), "odd"),
    }


BYTE_CASES = _byte_cases()


def builder_models() -> dict[str, tuple]:
    """Small valid-but-odd models built with tinyflow.tflite.writer: (bytes function, kind)."""
    from tinyflow.tflite.writer import ModelBuilder

    def float_fc():
        mb = ModelBuilder()
        x = mb.tensor([1, 4], "float32")
        w = mb.tensor([2, 4], "float32", data=np.ones((2, 4)))
        y = mb.tensor([1, 2], "float32")
        mb.op("FULLY_CONNECTED", [x, w, -1], [y])
        return mb.build([x], [y])

    def bool_io():
        mb = ModelBuilder()
        x = mb.tensor([1, 4], "bool")
        y = mb.tensor([1, 4], "bool")
        mb.op("LOGICAL_NOT", [x], [y])
        return mb.build([x], [y])

    def unsupported_op():
        mb = ModelBuilder()
        x = mb.tensor([1, 8], "int8", scale=0.1, zero_point=0)
        y = mb.tensor([1, 8], "int8", scale=0.1, zero_point=0)
        mb.op("REVERSE_V2", [x, mb.tensor([1], "int32", data=[1])], [y])
        return mb.build([x], [y])

    def scalar_int8():
        mb = ModelBuilder()
        x = mb.tensor([], "int8", scale=0.1, zero_point=0)
        y = mb.tensor([], "int8", scale=0.1, zero_point=0)
        mb.op("RELU", [x], [y])
        return mb.build([x], [y])

    def identity_graph():  # the input is the output; no op runs
        mb = ModelBuilder()
        x = mb.tensor([1, 4], "int8", scale=0.1, zero_point=0)
        return mb.build([x], [x])

    return {
        "float-fc": (float_fc, "odd"),
        "bool-io": (bool_io, "odd"),
        "unsupported-op": (unsupported_op, "odd"),
        "scalar-int8": (scalar_int8, "odd"),
        "identity-graph": (identity_graph, "odd"),
    }


def payload_model(canary: str) -> bytes:
    """hello_world whose input tensor name, copied into a C comment, defines a constructor that
    creates the file `canary` when the generated C escapes it (sim://host compiles and runs it)."""
    code = (
        f"x */ 0}}}}; __attribute__((constructor)) static void tinyflow_pwned(void) {{ "
        f'extern int system(const char *); system("touch {canary}"); }} '
        f"__attribute__((unused)) static const tinyflow_tensor_spec_t tinyflow_pad[] = {{ {{ /* "
    )
    model = _unpack("hello")
    _input(model).name = code.encode()
    return _pack(model)
