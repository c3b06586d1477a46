"""Hostile single-op models for the H8 ops: compile_model gives a clean ModelError or valid C, never
another exception (inconsistent shapes, odd quantization, wrong types, bad options)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from tinyflow.errors import ModelError
from tinyflow.tflite.writer import ModelBuilder

OPS = ["ADD", "MUL", "SOFTMAX", "LOGISTIC", "TANH", "RELU", "RELU6", "QUANTIZE", "DEQUANTIZE", "MEAN",
       "CONCATENATION", "PAD", "PADV2", "RESHAPE", "SQUEEZE", "EXPAND_DIMS", "SVDF"]
DTYPES = ["int8", "int8", "int8", "int16", "float32", "int32", "uint8"]
SCALES = [0.1, 1 / 256, 1e-30, 0.0, -0.5, float("nan"), float("inf"), 3e38]


@st.composite
def hostile(draw):
    mb = ModelBuilder()
    op = draw(st.sampled_from(OPS))

    def tensor(const=False):
        shape = draw(st.lists(st.integers(0, 4), min_size=0, max_size=7))
        dtype = draw(st.sampled_from(DTYPES))
        q = draw(st.sampled_from([None, "one", "many"]))
        kw = {}
        if q == "one":
            kw = {"scale": draw(st.sampled_from(SCALES)), "zero_point": draw(st.integers(-70000, 70000))}
        elif q == "many":
            kw = {"scale": [0.1, 0.2], "zero_point": [0, 1]}
        if const and int(np.prod(shape)) < 64:
            info = np.iinfo(np.dtype(dtype)) if dtype != "float32" else None
            lo, hi = (info.min, info.max) if info else (-5, 5)
            kw["data"] = np.array(draw(st.lists(st.integers(max(lo, -10), min(hi, 10)), min_size=int(np.prod(shape)),
                                                max_size=int(np.prod(shape)))), dtype=dtype).reshape(shape)
        return mb.tensor(shape, dtype, **kw)

    n_in = draw(st.integers(0, 5))
    ins = [tensor(const=k > 0 and draw(st.booleans())) for k in range(n_in)]
    outs = [tensor() for _ in range(draw(st.integers(0, 2)))]
    options = {}
    if op in ("ADD", "MUL", "CONCATENATION", "SVDF"):
        options["fused_activation_function"] = draw(st.sampled_from(["NONE", "RELU", "TANH", "SIGN_BIT"]))
    if op == "CONCATENATION":
        options["axis"] = draw(st.integers(-9, 9))
    if op == "SOFTMAX":
        options["beta"] = draw(st.sampled_from([1.0, 0.0, -1.0, 1e30, float("nan")]))
    if op == "MEAN":
        options["keep_dims"] = draw(st.booleans())
    if op == "SVDF":
        options["rank"] = draw(st.integers(-1, 3))
    mb.op(op, ins, outs, **options)
    graph_inputs = [i for i in ins if mb.tensors[i].buffer == 0]
    return mb.build(graph_inputs, outs)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile())
def test_hostile_single_op_models_fail_cleanly(data):
    from tinyflow.compile.compiler import compile_model

    try:
        compiled = compile_model(data, name="hostile")
    except ModelError as exc:
        assert str(exc).strip()
        return
    assert compiled.sources
