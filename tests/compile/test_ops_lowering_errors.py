"""The H8 lowerings validate what their kernels trust: bad models fail with ModelError naming the op."""

from __future__ import annotations

import pytest

from tinyflow.compile.ops import lowering_for
from tinyflow.errors import ModelError
from tinyflow.tflite import read_model
from tinyflow.tflite.writer import ModelBuilder


class FakeCtx:
    """The LowerContext surface the lowerings use, recording what they emit."""

    def __init__(self, model, op):
        self.model, self.op, self.structs = model, op, []

    def tensor(self, i):
        return self.model.tensors[i]

    def value(self, i):
        return self.model.tensors[i].data

    def ptr(self, i, ctype):
        return f"(({ctype} *)T{i})"

    def struct(self, cstruct, params, stem="p"):
        self.structs.append(cstruct.initializer(params))
        return f"{stem}{len(self.structs)}"

    def fail(self, message, hint=None):
        raise ModelError(f"Op {self.op.index} ({self.op.name}): {message}", hint)


def lower_single(build):
    mb = ModelBuilder()
    ins, outs = build(mb)
    model = read_model(mb.build(ins, outs))
    op = model.ops[0]
    ctx = FakeCtx(model, op)
    return lowering_for(op.name)(op, ctx), ctx


def unary(op, din="int8", dout="int8", qi=(0.1, 0), qo=(0.1, 0), shape=(1, 4), oshape=None, **options):
    def build(mb):
        x = mb.tensor(shape, din, *qi)
        y = mb.tensor(oshape or shape, dout, *qo)
        mb.op(op, [x], [y], **options)
        return [x], [y]

    return build


def test_lowering_renders_kernel_call_and_structs():
    low, ctx = lower_single(unary("SOFTMAX", qo=(1 / 256, -128), beta=1.0))
    assert low.call.startswith("tinyflow_softmax_s8(&softmax1, ((int8_t *)T0), ((int8_t *)T1))")
    assert low.kernels == ("softmax", "fixedpoint") and low.inplace == ((0, 0),)
    assert ".input_left_shift = " in ctx.structs[0] and ".depth = 4" in ctx.structs[0]


@pytest.mark.parametrize(
    "build, text",
    [
        (unary("SOFTMAX", qo=(1 / 256, 0)), r"Op 0 \(SOFTMAX\): SOFTMAX int8 output must have scale"),
        (unary("SOFTMAX", din="int16", qo=(1 / 256, -128)), "INT16 tensor 't0' is not supported"),
        (unary("LOGISTIC", qo=(1 / 256, 0)), "zero point must be -128"),
        (unary("TANH", qi=(0.0, 0)), "quantization scale 0.0"),
        (unary("RELU", qi=(0.1, 300)), "zero point 300 outside INT8"),
        (unary("RELU6", shape=(1, 4), oshape=(1, 5)), r"maps shape \[1, 4\] to \[1, 5\]"),
        (unary("QUANTIZE", din="uint8", dout="int16"), "uint8 -> int16 is not supported"),
        (unary("DEQUANTIZE", din="int8", dout="int8"), "INT8 tensor 't1' is not supported"),
    ],
)
def test_unary_lowerings_reject(build, text):
    with pytest.raises(ModelError, match=text):
        lower_single(build)


def test_add_rejects_non_broadcastable_and_per_channel():
    def bad_shapes(mb):
        a, b = mb.tensor([2, 3], "int8", 0.1, 0), mb.tensor([3, 3], "int8", 0.1, 0)
        y = mb.tensor([2, 3], "int8", 0.1, 0)
        mb.op("ADD", [a, b], [y])
        return [a, b], [y]

    def per_channel(mb):
        a = mb.tensor([1, 2], "int8", [0.1, 0.2], [0, 0], quantized_dimension=1)
        b, y = mb.tensor([1, 2], "int8", 0.1, 0), mb.tensor([1, 2], "int8", 0.1, 0)
        mb.op("ADD", [a, b], [y])
        return [a, b], [y]

    with pytest.raises(ModelError, match="do not broadcast"):
        lower_single(bad_shapes)
    with pytest.raises(ModelError, match="per-tensor quantization"):
        lower_single(per_channel)


def test_mean_needs_constant_axes_and_matching_output():
    def dynamic_axis(mb):
        x, ax, y = mb.tensor([1, 4, 4, 2], "int8", 0.1, 0), mb.tensor([2], "int32"), mb.tensor([1, 2], "int8", 0.1, 0)
        mb.op("MEAN", [x, ax], [y])
        return [x, ax], [y]

    def wrong_output(mb):
        x, ax = mb.tensor([1, 4, 4, 2], "int8", 0.1, 0), mb.tensor([2], "int32", data=[1, 2])
        y = mb.tensor([1, 3], "int8", 0.1, 0)
        mb.op("MEAN", [x, ax], [y])
        return [x], [y]

    with pytest.raises(ModelError, match="needs a constant axis"):
        lower_single(dynamic_axis)
    with pytest.raises(ModelError, match="cannot give"):
        lower_single(wrong_output)


def test_pad_and_concat_check_declared_shapes():
    def pad(mb):
        x, p = mb.tensor([1, 2], "int8", 0.1, 3), mb.tensor([2, 2], "int32", data=[[0, 0], [1, 1]])
        y = mb.tensor([1, 5], "int8", 0.1, 3)
        mb.op("PAD", [x, p], [y])
        return [x], [y]

    def concat(mb):
        a, b = mb.tensor([1, 2], "int8", 0.1, 0), mb.tensor([1, 3], "int8", 0.1, 0)
        y = mb.tensor([1, 6], "int8", 0.1, 0)
        mb.op("CONCATENATION", [a, b], [y], axis=1)
        return [a, b], [y]

    with pytest.raises(ModelError, match="declares"):
        lower_single(pad)
    with pytest.raises(ModelError, match="cannot give"):
        lower_single(concat)


def test_reshape_is_an_alias_and_checks_counts():
    low, _ = lower_single(unary("RESHAPE", shape=(1, 6), oshape=(2, 3), new_shape=[2, 3]))
    assert low.alias and low.call == ""
    with pytest.raises(ModelError, match="changes the element count"):
        lower_single(unary("RESHAPE", shape=(1, 6), oshape=(2, 4), new_shape=[2, 4]))


def test_concat_of_mixed_parameters_emits_requantize():
    def concat(mb):
        a, b = mb.tensor([1, 2], "int8", 0.1, 0), mb.tensor([1, 3], "int8", 0.2, 5)
        y = mb.tensor([1, 5], "int8", 0.1, 0)
        mb.op("CONCATENATION", [a, b], [y], axis=-1)
        return [a, b], [y]

    low, ctx = lower_single(concat)
    assert "tinyflow_concatenation_requant_s8" in low.call and len(ctx.structs) == 2
    assert ".input_zero_point = {0, 5, 0" in ctx.structs[1]


def test_concat_with_fused_activation_is_refused_like_tflm():
    def concat(mb):
        a, b = mb.tensor([1, 2], "int8", 0.1, 0), mb.tensor([1, 3], "int8", 0.1, 0)
        y = mb.tensor([1, 5], "int8", 0.1, 0)
        mb.op("CONCATENATION", [a, b], [y], axis=1, fused_activation_function="RELU")
        return [a, b], [y]

    with pytest.raises(ModelError, match="fused activation RELU"):
        lower_single(concat)
