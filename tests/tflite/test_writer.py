"""The .tflite writer: models it builds parse, run in TFLM, and carry exactly what was given."""

from __future__ import annotations

import numpy as np
import pytest

from tinyflow.errors import UsageError
from tinyflow.tflite.writer import ModelBuilder, pack

schema = pytest.importorskip("ai_edge_litert.schema_py_generated")


def _tflm():
    try:
        from tflite_micro import runtime
    except ImportError:
        from conftest import missing

        missing("tflite_micro (pip install tflite-micro)")
    return runtime


def _parse(data: bytes):
    return schema.ModelT.InitFromPackedBuf(bytearray(data), 0)


def _add_model():
    mb = ModelBuilder()
    a = mb.tensor([1, 4, 4, 3], "int8", scale=0.05, zero_point=-3, name="a")
    b = mb.tensor([1, 1, 1, 3], "int8", scale=0.02, zero_point=5, name="b")
    y = mb.tensor([1, 4, 4, 3], "int8", scale=0.07, zero_point=1, name="y")
    mb.op("ADD", [a, b], [y], fused_activation_function="RELU")
    return mb.build(inputs=[a, b], outputs=[y])


def test_add_model_runs_in_tflm_and_matches_reference_math():
    runtime = _tflm()
    it = runtime.Interpreter.from_bytes(_add_model())
    rng = np.random.default_rng(0)
    xa = rng.integers(-128, 128, (1, 4, 4, 3), dtype=np.int8)
    xb = rng.integers(-128, 128, (1, 1, 1, 3), dtype=np.int8)
    it.set_input(xa, 0)
    it.set_input(xb, 1)
    it.invoke()
    got = it.get_output(0)
    real = (xa.astype(np.float64) + 3) * 0.05 + (xb.astype(np.float64) - 5) * 0.02
    want = np.clip(np.round(np.maximum(real, 0) / 0.07) + 1, -128, 127)
    # TFLM's fixed-point ADD is within one step of the real-valued result.
    assert got.shape == (1, 4, 4, 3) and np.abs(got.astype(int) - want).max() <= 1


def test_fields_round_trip_through_the_flatbuffer():
    m = _parse(_add_model())
    sg = m.subgraphs[0]
    assert [t.name.decode() for t in sg.tensors] == ["a", "b", "y"]
    assert list(sg.inputs) == [0, 1] and list(sg.outputs) == [2]
    assert list(sg.tensors[1].shape) == [1, 1, 1, 3]
    assert sg.tensors[0].type == schema.TensorType.INT8
    assert list(sg.tensors[0].quantization.zeroPoint) == [-3]
    assert sg.tensors[2].quantization.scale[0] == pytest.approx(0.07)
    op = sg.operators[0]
    assert m.operatorCodes[op.opcodeIndex].builtinCode == schema.BuiltinOperator.ADD
    assert op.builtinOptionsType == schema.BuiltinOptions.AddOptions
    assert op.builtinOptions.fusedActivationFunction == schema.ActivationFunctionType.RELU


def test_constant_per_channel_conv_runs_in_tflm():
    runtime = _tflm()
    rng = np.random.default_rng(1)
    w = rng.integers(-127, 128, (4, 3, 3, 2), dtype=np.int8)
    bias = rng.integers(-500, 500, 4, dtype=np.int32)
    w_scale = [0.01, 0.02, 0.005, 0.03]
    mb = ModelBuilder()
    x = mb.tensor([1, 5, 5, 2], "int8", scale=0.1, zero_point=0)
    wt = mb.tensor(w.shape, "int8", scale=w_scale, zero_point=0, data=w, quantized_dimension=0)
    bt = mb.tensor([4], "int32", scale=[0.1 * s for s in w_scale], zero_point=0, data=bias)
    y = mb.tensor([1, 3, 3, 4], "int8", scale=0.2, zero_point=-10)
    mb.op("CONV_2D", [x, wt, bt], [y], padding="VALID", fused_activation_function="RELU6")
    data = mb.build([x], [y])
    m = _parse(data)
    wt_back = m.subgraphs[0].tensors[wt]
    assert np.array_equal(np.frombuffer(bytes(m.buffers[wt_back.buffer].data), np.int8).reshape(w.shape), w)
    assert np.array_equal(np.frombuffer(bytes(m.buffers[m.subgraphs[0].tensors[bt].buffer].data), "<i4"), bias)
    assert list(wt_back.quantization.zeroPoint) == [0, 0, 0, 0]
    assert m.subgraphs[0].operators[0].builtinOptions.strideW == 1  # strides default to 1
    it = runtime.Interpreter.from_bytes(data)
    xin = rng.integers(-128, 128, (1, 5, 5, 2), dtype=np.int8)
    it.set_input(xin, 0)
    it.invoke()
    acc = np.einsum("hwc,ohwc->o", xin[0, 0:3, 0:3].astype(np.int64), w.astype(np.int64)) + bias
    want = np.clip(np.round(acc * 0.1 * np.array(w_scale) / 0.2) - 10, -10, min(127, round(6 / 0.2) - 10))
    assert np.abs(it.get_output(0)[0, 0, 0].astype(int) - want).max() <= 1


def test_chain_with_reshape_and_softmax_runs_in_tflm():
    runtime = _tflm()
    mb = ModelBuilder()
    x = mb.tensor([1, 2, 5], "int8", scale=0.1, zero_point=3)
    shp = mb.tensor([2], "int32", data=[1, 10])
    r = mb.tensor([1, 10], "int8", scale=0.1, zero_point=3)
    y = mb.tensor([1, 10], "int8", scale=1 / 256, zero_point=-128)
    mb.op("RESHAPE", [x, shp], [r], new_shape=[1, 10])
    mb.op("SOFTMAX", [r], [y], beta=1.0)
    it = runtime.Interpreter.from_bytes(mb.build([x], [y]))
    it.set_input(np.arange(10, dtype=np.int8).reshape(1, 2, 5), 0)
    it.invoke()
    out = it.get_output(0).ravel().astype(int)
    assert out.shape == (10,) and np.all(np.diff(out) >= 0) and out[-1] > out[0]


def test_large_opcode_uses_placeholder_and_extended_field():
    mb = ModelBuilder()
    x = mb.tensor([4], "float32")
    y = mb.tensor([4], "float32")
    mb.op("SIGN", [x], [y])
    m = _parse(mb.build([x], [y]))
    assert schema.BuiltinOperator.SIGN > 127
    assert m.operatorCodes[0].deprecatedBuiltinCode == 127
    assert m.operatorCodes[0].builtinCode == schema.BuiltinOperator.SIGN


def test_same_opcode_is_shared_and_model_can_be_corrupted_before_packing():
    mb = ModelBuilder()
    t = [mb.tensor([2], "int8", scale=0.1, zero_point=0) for _ in range(3)]
    mb.op("RELU", [t[0]], [t[1]])
    mb.op("RELU", [t[1]], [t[2]])
    m = mb.model([t[0]], [t[2]])
    assert len(m.operatorCodes) == 1
    m.subgraphs[0].operators[1].inputs = [99]  # a dangling index, as fuzz tests need
    assert list(_parse(pack(m)).subgraphs[0].operators[1].inputs) == [99]


@pytest.mark.parametrize(
    "call, text",
    [
        (lambda mb: mb.tensor([2], "complex64"), "no .tflite tensor type"),
        (lambda mb: mb.tensor([2, 2], "int8", data=[1, 2, 3]), "3 elements"),
        (lambda mb: mb.op("NOT_AN_OP", [], []), "Unknown builtin operator"),
        (lambda mb: mb.op("ADD", [], [], fused_activation_function="RELU7"), "not a ActivationFunctionType"),
        (lambda mb: mb.op("ADD", [], [], stride=2), "no option 'stride'"),
        (lambda mb: mb.op("RELU", [], [], axis=1), "takes no options"),
    ],
)
def test_mistakes_raise_usage_errors(call, text):
    with pytest.raises(UsageError, match=text):
        call(ModelBuilder())


def test_read_back_with_tinyflow_reader():
    from tinyflow.tflite import read_model

    rng = np.random.default_rng(2)
    w = rng.integers(-127, 128, (3, 4), dtype=np.int8)
    mb = ModelBuilder()
    x = mb.tensor([1, 4], "int8", scale=0.5, zero_point=-1, name="x")
    wt = mb.tensor([3, 4], "int8", scale=[0.1, 0.2, 0.3], zero_point=0, data=w, name="w")
    y = mb.tensor([1, 3], "int8", scale=0.25, zero_point=7, name="y")
    mb.op("FULLY_CONNECTED", [x, wt, -1], [y], fused_activation_function="RELU")
    model = read_model(mb.build([x], [y]))
    assert model.op_names() == ["FULLY_CONNECTED"]
    op = model.ops[0]
    assert list(op.inputs) == [x, wt, -1] and list(op.outputs) == [y]
    assert op.options["fused_activation_function"] == "RELU"
    t = model.tensors[wt]
    assert t.is_constant and np.array_equal(t.data, w)
    assert np.allclose(t.scale, [0.1, 0.2, 0.3]) and list(t.zero_point) == [0, 0, 0]
    assert model.tensors[x].shape == (1, 4) and model.tensors[x].type_name == "INT8"
    assert int(model.tensors[y].zero_point[0]) == 7
