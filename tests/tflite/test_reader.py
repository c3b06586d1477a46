"""The .tflite reader: corpus models parse to the right ops/tensors; hostile bytes give ModelError."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import corpus_path
from tinyflow.errors import ModelError
from tinyflow.tflite import read_model
from tinyflow.tflite.writer import ModelBuilder, pack

PERSON_OPS = (
    ["DEPTHWISE_CONV_2D"] + ["DEPTHWISE_CONV_2D", "CONV_2D"] * 13 + ["AVERAGE_POOL_2D", "CONV_2D", "RESHAPE", "SOFTMAX"]
)


def _conv_builder():
    mb = ModelBuilder()
    x = mb.tensor([1, 4, 4, 2], "int8", scale=0.05, zero_point=-3, name="x")
    w = mb.tensor(
        [3, 1, 1, 2],
        "int8",
        scale=[0.1, 0.2, 0.3],
        zero_point=0,
        quantized_dimension=0,
        data=np.arange(6).reshape(3, 1, 1, 2) - 3,
        name="w",
    )
    b = mb.tensor([3], "int32", scale=[0.005, 0.01, 0.015], zero_point=0, data=[1, -2, 3], name="b")
    y = mb.tensor([1, 2, 2, 3], "int8", scale=0.07, zero_point=1, name="y")
    mb.op("CONV_2D", [x, w, b], [y], stride_w=2, stride_h=2, padding="SAME", fused_activation_function="RELU6")
    return mb, (x, w, b, y)


def test_reads_what_the_writer_wrote():
    mb, (x, w, b, y) = _conv_builder()
    m = read_model(mb.build(inputs=[x], outputs=[y]))
    assert m.op_names() == ["CONV_2D"]
    op = m.ops[0]
    assert op.inputs == (x, w, b) and op.outputs == (y,)
    assert op.options["stride_w"] == 2 and op.options["padding"] == "SAME"
    assert op.options["fused_activation_function"] == "RELU6"
    wt = m.tensors[w]
    assert wt.is_constant and wt.shape == (3, 1, 1, 2) and wt.type_name == "INT8" and wt.dtype == np.int8
    assert wt.data.tolist() == (np.arange(6).reshape(3, 1, 1, 2) - 3).tolist()
    assert np.allclose(wt.scale, [0.1, 0.2, 0.3]) and wt.zero_point.tolist() == [0, 0, 0]
    assert m.tensors[b].data.tolist() == [1, -2, 3] and m.tensors[b].nbytes == 12
    assert not m.tensors[x].is_constant and m.tensors[x].nbytes == 32
    assert m.inputs == (x,) and m.outputs == (y,)


def test_shape_signature_marks_dynamic_dimensions():
    mb, (x, w, b, y) = _conv_builder()
    model = mb.model(inputs=[x], outputs=[y])
    model.subgraphs[0].tensors[x].shapeSignature = [-1, 4, 4, 2]
    model.subgraphs[0].tensors[y].shapeSignature = [1, 2]  # wrong rank: ignored, shape used
    m = read_model(pack(model))
    assert m.tensors[x].shape == (1, 4, 4, 2) and m.tensors[x].shape_signature == (-1, 4, 4, 2)
    assert m.tensors[y].shape_signature == m.tensors[y].shape == (1, 2, 2, 3)
    assert m.tensors[w].shape_signature == (3, 1, 1, 2)


def test_person_detect_ops_exactly():
    m = read_model(corpus_path("tflm/person_detect.tflite"))
    assert m.op_names() == PERSON_OPS
    inp = m.tensors[m.inputs[0]]
    assert inp.shape == (1, 96, 96, 1) and inp.type_name == "INT8"
    assert m.ops[0].options["depth_multiplier"] == 8


def test_corpus_model_parses(corpus_model):
    m = read_model(corpus_model)
    assert m.ops and m.inputs and m.outputs
    assert m.sha256 == hashlib.sha256(corpus_model.read_bytes()).hexdigest()
    for t in m.tensors:
        if t.is_constant:
            assert t.data.shape == t.shape and t.data.nbytes == t.nbytes


def test_custom_and_new_op_codes():
    mb, (x, w, b, y) = _conv_builder()
    model = mb.model(inputs=[x], outputs=[y])
    model.operatorCodes[0].builtinCode = 32  # CUSTOM
    model.operatorCodes[0].deprecatedBuiltinCode = 32
    model.operatorCodes[0].customCode = "TFLite_Detection_PostProcess"
    model.subgraphs[0].operators[0].builtinOptionsType = 0
    model.subgraphs[0].operators[0].builtinOptions = None
    assert read_model(pack(model)).op_names() == ["CUSTOM:TFLite_Detection_PostProcess"]
    model.operatorCodes[0].builtinCode = 150  # past 127: only the int32 field holds it
    model.operatorCodes[0].deprecatedBuiltinCode = 127
    name = read_model(pack(model)).op_names()[0]
    assert name != "PLACEHOLDER_FOR_GREATER_OP_CODES" and not name.startswith("CUSTOM")


def test_offset_buffers_of_the_large_model_layout():
    mb, (x, w, b, y) = _conv_builder()
    model = mb.model(inputs=[x], outputs=[y])
    buf = model.buffers[model.subgraphs[0].tensors[w].buffer]
    blob = bytes(buf.data)
    buf.data, buf.offset, buf.size = None, 1 << 20, len(blob)
    head = len(pack(model))  # non-default scalars are always stored, so the length is final
    buf.offset = (head + 15) // 16 * 16
    data = pack(model).ljust(buf.offset, b"\0") + blob
    m = read_model(data)
    assert m.tensors[w].data.reshape(-1).tolist() == np.frombuffer(blob, np.int8).tolist()
    with pytest.raises(ModelError, match="spans bytes"):
        read_model(data[:-1])


@pytest.mark.parametrize(
    "corrupt, text",
    [
        (lambda m: setattr(m, "subgraphs", []), "no subgraph"),
        (lambda m: setattr(m.subgraphs[0].operators[0], "inputs", [0, 1, 99]), "input index 99 is out of range"),
        (lambda m: setattr(m.subgraphs[0].operators[0], "outputs", [-1]), "output index -1"),
        (lambda m: setattr(m.subgraphs[0], "outputs", [7]), "subgraph output index 7"),
        (lambda m: setattr(m.subgraphs[0].operators[0], "opcodeIndex", 5), "operator code 5"),
        (lambda m: setattr(m.subgraphs[0].tensors[1], "shape", [3, 1, 1, 3]), "needs 9 bytes but its buffer holds 6"),
        (lambda m: setattr(m.subgraphs[0].tensors[1], "buffer", 40), "buffer 40"),
        (lambda m: setattr(m.subgraphs[0].tensors[0], "shape", [1 << 20, 1 << 20, 4]), "absurd shape"),
        (lambda m: setattr(m.subgraphs[0].tensors[0], "shape", [1, -1]), "invalid shape"),
        (lambda m: setattr(m.subgraphs[0].tensors[0], "type", 99), "unknown or unsupported type 99"),
        (lambda m: setattr(m.subgraphs[0].tensors[1].quantization, "zeroPoint", [0, 0]), "3 scales but 2 zero points"),
    ],
)
def test_inconsistent_models_raise_model_error(corrupt, text):
    mb, (x, w, b, y) = _conv_builder()
    model = mb.model(inputs=[x], outputs=[y])
    corrupt(model)
    with pytest.raises(ModelError, match=text):
        read_model(pack(model))


@pytest.mark.parametrize(
    "data, text",
    [
        (b"", "truncated"),
        (b"\x10\0\0\0TFL", "truncated"),
        (b"\x10\0\0\0TFL2" + bytes(64), "identifier"),
        (b"\xff\xff\xff\x7fTFL3" + bytes(8), "malformed"),
    ],
)
def test_garbage_raises_model_error(data, text):
    with pytest.raises(ModelError, match=text):
        read_model(data)


def test_missing_file(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        read_model(tmp_path / "nope.tflite")


class _Shared:
    """Packs its table once and hands back the same offset: flatbuffer table sharing."""

    def __init__(self, table):
        self.table, self.offset = table, None

    def Pack(self, builder):  # noqa: N802 (the object API's name)
        if self.offset is None:
            self.offset = self.table.Pack(builder)
        return self.offset


def test_shared_tables_cannot_blow_up():
    # 2,000 subgraph offsets to one subgraph of 2,000 offsets to one tensor: a ~16 KB file that
    # a naive object-API unpack would turn into 4 million tensors. The reader refuses it.
    mb, (x, w, b, y) = _conv_builder()
    model = mb.model(inputs=[x], outputs=[y])
    sg = model.subgraphs[0]
    sg.tensors = [_Shared(sg.tensors[0])] * 2000
    model.subgraphs = [_Shared(sg)] * 2000
    data = pack(model)
    assert len(data) < 40_000
    with pytest.raises(ModelError, match="cannot fit"):
        read_model(data)


def test_shared_long_names_cannot_blow_up():
    # 400 offsets to one tensor with a 64 KB name: a naive unpack copies the name 400 times.
    mb, (x, w, b, y) = _conv_builder()
    model = mb.model(inputs=[x], outputs=[y])
    sg = model.subgraphs[0]
    sg.tensors[0].name = "n" * 65536
    sg.tensors = [_Shared(sg.tensors[0])] * 400
    with pytest.raises(ModelError, match="name string bytes"):
        read_model(pack(model))


def test_int4_constants_unpack_low_nibble_first():
    import ai_edge_litert.schema_py_generated as schema

    mb, (x, w, b, y) = _conv_builder()
    model = mb.model(inputs=[x], outputs=[y])
    t = model.subgraphs[0].tensors[w]  # 6 values -> 3 bytes of nibbles
    t.type = schema.TensorType.INT4
    model.buffers[t.buffer].data = np.array([0x21, 0xF8, 0x7E], np.uint8)
    m = read_model(pack(model))
    assert m.tensors[w].nbytes == 3 and m.tensors[w].dtype == np.int8
    assert m.tensors[w].data.reshape(-1).tolist() == [1, 2, -8, -1, -2, 7]


def _assert_model_error_or_ok(data: bytes):
    try:
        read_model(data)
    except ModelError:
        pass


SMALL = ["tflm/hello_world_int8.tflite", "tflm/micro_speech_quantized.tflite", "mlperf_tiny/kws_ref_model.tflite"]


@pytest.mark.parametrize("rel", SMALL)
def test_every_truncation_point_sampled(rel):
    data = corpus_path(rel).read_bytes()
    for cut in list(range(0, 200)) + list(range(200, len(data), max(1, len(data) // 300))):
        _assert_model_error_or_ok(data[:cut])


@pytest.mark.parametrize("rel", SMALL)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(flips=st.lists(st.tuples(st.integers(0, 1 << 30), st.integers(1, 255)), min_size=1, max_size=8))
def test_random_byte_flips(rel, flips):
    data = bytearray(corpus_path(rel).read_bytes())
    # Bias half the flips into the first 2 KiB, where the root table, vtables and offsets live.
    for k, (pos, xor) in enumerate(flips):
        span = 2048 if k % 2 == 0 else len(data)
        data[pos % min(span, len(data))] ^= xor
    _assert_model_error_or_ok(bytes(data))


@pytest.mark.parametrize(
    "shape, text",
    [
        (
            [1, 1 << 28, 4],
            r"Tensor 0 \(t0\) of shape \[1, 268435456, 4\] INT8 needs 1,073,741,824 bytes; tinyflow takes "
            r"activations of at most 67,108,864 bytes",
        ),
        ([1 << 14, 1 << 13], r"needs 134,217,728 bytes"),
    ],
)
def test_activations_no_microcontroller_could_hold_are_refused(shape, text):
    mb = ModelBuilder()
    x, y = mb.tensor(shape, "int8", scale=0.1, zero_point=0), mb.tensor([1], "int8", scale=0.1, zero_point=0)
    mb.op("RELU", [x], [y])
    with pytest.raises(ModelError, match=text):
        read_model(mb.build([x], [y]))


def test_activation_totals_and_other_subgraphs_are_bounded_too():
    import copy

    mb = ModelBuilder()
    ts = [mb.tensor([1, 60 << 20], "int8", scale=0.1, zero_point=0) for _ in range(5)]  # 60 MiB each: 300 MiB
    for a, b in zip(ts, ts[1:]):
        mb.op("RELU", [a], [b])
    with pytest.raises(
        ModelError, match=r"activations add up to 314,572,800 bytes; tinyflow takes at most 268,435,456"
    ):
        read_model(mb.build([ts[0]], [ts[-1]]))
    small = ModelBuilder()
    x, y = small.tensor([1, 4], "int8"), small.tensor([1, 4], "int8")
    small.op("RELU", [x], [y])
    model = small.model([x], [y])
    body = copy.deepcopy(model.subgraphs[0])
    body.tensors[1].shape = [1 << 27]
    model.subgraphs.append(body)  # a WHILE body TFLM would allocate
    with pytest.raises(ModelError, match=r"Tensor 1 \(t1\) of subgraph 1 of shape \[134217728\]"):
        read_model(pack(model))
    assert read_model(small.build([x], [y])).tensors[0].nbytes == 4


# ---- model files: only regular files, size bounded (issue #9: a FIFO hung, /dev/zero ate all memory) --


def _read_in_thread(path, seconds: float = 10.0):
    """read_model(path) in a daemon thread: (finished in time, what it raised)."""
    import threading

    outcome = {}

    def run():
        try:
            read_model(path)
        except Exception as exc:  # noqa: BLE001 (the test inspects it)
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)  # daemon: a hang must not keep pytest alive
    thread.start()
    thread.join(seconds)
    return not thread.is_alive(), outcome.get("error")


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    import os

    fifo = tmp_path / "model.tflite"
    os.mkfifo(fifo)
    finished, error = _read_in_thread(fifo)
    assert finished, "read_model blocked on a FIFO"
    assert isinstance(error, ModelError) and "is a FIFO (named pipe), not a regular file" in error.message


def test_dev_zero_is_refused_before_reading(tmp_path):
    link = tmp_path / "zero.tflite"
    link.symlink_to("/dev/zero")
    finished, error = _read_in_thread(link)
    assert finished
    assert isinstance(error, ModelError) and "is a character device, not a regular file" in error.message


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(ModelError, match="is a directory, not a regular file"):
        read_model(tmp_path)


def test_a_file_over_the_ceiling_is_refused_naming_it(tmp_path, monkeypatch):
    from tinyflow.tflite import reader

    monkeypatch.setattr(reader, "MAX_MODEL_BYTES", 100)
    path = tmp_path / "big.tflite"
    path.write_bytes(bytes(101))
    with pytest.raises(ModelError, match=r"is 101 B, more than the 100 B"):
        read_model(path)


def test_the_ceiling_is_sane():
    from tinyflow.tflite import MAX_MODEL_BYTES

    assert 64 << 20 <= MAX_MODEL_BYTES < 2 << 30  # the flatbuffer format caps a file at 2 GiB


# ---- graph structure: the order TFLM runs ops in, one writer per tensor (issue #9) ------------------


def _chain_builder():
    """x -> ADD(x, c) -> h -> ADD(h, c) -> y: two ops in execution order."""
    mb = ModelBuilder()
    q = {"scale": 0.1, "zero_point": 0}
    x, h, y = (mb.tensor([1, 4], "int8", name=n, **q) for n in ("x", "h", "y"))
    c = mb.tensor([1, 4], "int8", data=np.ones((1, 4)), name="c", **q)
    return mb, (x, h, y, c)


def test_a_chain_in_execution_order_reads():
    mb, (x, h, y, c) = _chain_builder()
    mb.op("ADD", [x, c], [h])
    mb.op("ADD", [h, c], [y])
    assert read_model(mb.build([x], [y])).op_names() == ["ADD", "ADD"]


@pytest.mark.parametrize(
    "ops, graph_inputs, text",
    [
        # op 0 reads h, which op 1 writes later: TFLM runs op 0 on memory nobody wrote
        ([("h", "y"), ("x", "h")], ["x"], r"Operator 0 \(ADD\) reads tensor 1 before operator 1 writes it"),
        ([("y", "y")], ["x"], r"Operator 0 \(ADD\) reads tensor 2 before operator 0 writes it"),
        ([("x", "h"), ("x", "h"), ("h", "y")], ["x"], r"Operator 1 \(ADD\) writes tensor 1, which operator 0 already"),
        ([("h", "x"), ("x", "y")], ["x", "h"], r"Operator 0 \(ADD\) writes tensor 0, which is a model input"),
        ([], ["x"], r"subgraph 0 has no operators"),
    ],
)
def test_graphs_tflm_cannot_run_meaningfully_are_a_model_error(ops, graph_inputs, text):
    mb, (x, h, y, c) = _chain_builder()
    names = {"x": x, "h": h, "y": y}
    for src, dst in ops:
        mb.op("ADD", [names[src], c], [names[dst]])
    with pytest.raises(ModelError, match=text):
        read_model(mb.build([names[n] for n in graph_inputs], [y]))
