"""The H8 ops through the real compiler (compile_model -> C -> host library) vs TFLM.

Each hypothesis example is one model holding every op as its own branch, plus a chain that
exercises in-place and alias planning (RELU -> RESHAPE -> SOFTMAX), so one C build covers all ops.
"""

from __future__ import annotations

import numpy as np
import pytest
from elementwise_kernels import qparams, rand_int, tflm
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyflow.tflite.writer import ModelBuilder

pytestmark = pytest.mark.firmware


def _shape(draw, rank_max=4, dim_max=4):
    return draw(st.lists(st.integers(1, dim_max), min_size=1, max_size=rank_max))


def _sub(draw, shape):
    """A shape that broadcasts to `shape`."""
    return [d if draw(st.booleans()) else 1 for d in shape][draw(st.integers(0, len(shape) - 1)) :]


@st.composite
def graphs(draw):
    """(model bytes, input arrays) with one branch per op."""
    mb, feeds, outs = ModelBuilder(), [], []
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    q = lambda: qparams(draw, st)  # noqa: E731

    def inp(shape, dtype="int8", qp=None):
        qp = qp or (q() if dtype == "int8" else (None, None))
        i = mb.tensor(shape, dtype, *qp)
        feeds.append(
            (
                i,
                rand_int(rng, shape, dtype)
                if dtype != "float32"
                else (rng.standard_normal(shape) * 3).astype(np.float32),
            )
        )
        return i

    def out(shape, dtype="int8", qp=None):
        o = mb.tensor(shape, dtype, *(qp or (q() if dtype == "int8" else (None, None))))
        outs.append(o)
        return o

    for op in ("ADD", "MUL"):
        shape = _shape(draw)
        a, b = inp(shape), inp(_sub(draw, shape))
        mb.op(op, [a, b], [out(shape)], fused_activation_function=draw(st.sampled_from(["NONE", "RELU", "RELU6"])))
    for op, qo in (("LOGISTIC", (1 / 256, -128)), ("TANH", (1 / 128, 0)), ("RELU", None), ("RELU6", "same")):
        shape, qi = _shape(draw), q()
        mb.op(op, [inp(shape, qp=qi)], [out(shape, qp=qi if qo == "same" else qo)])
    shape = _shape(draw)
    mb.op("SOFTMAX", [inp(shape)], [out(shape, "int16", (1 / 65536, -32768))], beta=draw(st.sampled_from([1.0, 0.3])))
    # Large enough for the table lowerings (RELU, RELU6, int8 requantize) and ADD's input tables.
    big, qb = [1, 16, 16, 5], q()
    mb.op("RELU6", [inp(big, qp=qb)], [out(big, qp=qb)])
    mb.op("RELU", [inp(big)], [out(big)])
    mb.op("QUANTIZE", [inp(big)], [out(big)])
    mb.op("ADD", [inp(big), inp([5])], [out(big)], fused_activation_function="RELU")
    # Chain: RELU (may run in place) -> RESHAPE (alias) -> SOFTMAX.
    shape = _shape(draw)
    r = mb.tensor(shape, "int8", *q())
    mb.op("RELU", [inp(shape)], [r])
    flat = mb.tensor(
        [1, int(np.prod(shape))], "int8", *mb.tensors[r].quantization.scale, *mb.tensors[r].quantization.zeroPoint
    )
    mb.op(
        "RESHAPE",
        [r, mb.tensor([2], "int32", data=[1, int(np.prod(shape))])],
        [flat],
        new_shape=[1, int(np.prod(shape))],
    )
    mb.op("SOFTMAX", [flat], [out([1, int(np.prod(shape))], qp=(1 / 256, -128))], beta=1.0)
    # MEAN over random axes.
    shape = _shape(draw, 4, 5)
    axes = sorted(set(draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape)))))
    keep = draw(st.booleans())
    oshape = (
        [1 if d in axes else n for d, n in enumerate(shape)]
        if keep
        else [n for d, n in enumerate(shape) if d not in axes]
    )
    mb.op("MEAN", [inp(shape), mb.tensor([len(axes)], "int32", data=axes)], [out(oshape or [1])], keep_dims=keep)
    # CONCATENATION of 2-3 inputs sharing quantization, along a random axis.
    shape, qc = _shape(draw), q()
    axis = draw(st.integers(0, len(shape) - 1))
    parts = []
    for _ in range(draw(st.integers(2, 3))):
        s = list(shape)
        s[axis] = draw(st.integers(1, 3))
        parts.append(s)
    cshape = list(shape)
    cshape[axis] = sum(p[axis] for p in parts)
    mb.op("CONCATENATION", [inp(p, qp=qc) for p in parts], [out(cshape, qp=qc)], axis=axis)
    # PAD with the output zero point.
    shape, qp_ = _shape(draw), q()
    pads = [[draw(st.integers(0, 2)), draw(st.integers(0, 2))] for _ in shape]
    mb.op(
        "PAD",
        [inp(shape, qp=qp_), mb.tensor([len(shape), 2], "int32", data=pads)],
        [out([d + a + b for d, (a, b) in zip(shape, pads)], qp=qp_)],
    )
    # QUANTIZE float -> int8, int8 -> int8; DEQUANTIZE int8 -> float.
    shape = _shape(draw)
    mb.op("QUANTIZE", [inp(shape, "float32")], [out(shape, qp=(0.03, -4))])
    shape = _shape(draw)
    mb.op("QUANTIZE", [inp(shape)], [out(shape)])
    shape = _shape(draw)
    mb.op("DEQUANTIZE", [inp(shape)], [out(shape, "float32")])
    return mb.build([i for i, _ in feeds], outs), [x for _, x in feeds], len(outs)


@settings(max_examples=8, deadline=None)
@given(graphs())
def test_all_h8_ops_compiled_match_tflm(graph):
    from tinyflow.compile.compiler import compile_model
    from tinyflow.runtimes.compiled import HostModel

    model, feeds, n_out = graph
    it = tflm().Interpreter.from_bytes(model, arena_size=1 << 20)
    for k, x in enumerate(feeds):
        it.set_input(x, k)
    it.invoke()
    want = [it.get_output(k) for k in range(n_out)]
    got = HostModel(compile_model(model, name="h8ops")).run(*feeds)
    for k, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_array_equal(g.reshape(-1).view(np.uint8), w.reshape(-1).view(np.uint8), err_msg=f"output {k}")
