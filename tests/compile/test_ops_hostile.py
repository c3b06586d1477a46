"""Hostile single-op models for the H8 ops: compile_model gives a clean ModelError or valid C, never
another exception (inconsistent shapes, odd quantization, wrong types, bad options)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinyflow.errors import ModelError
from tinyflow.tflite.writer import ModelBuilder

OPS = [
    "ADD",
    "MUL",
    "SOFTMAX",
    "LOGISTIC",
    "TANH",
    "RELU",
    "RELU6",
    "QUANTIZE",
    "DEQUANTIZE",
    "MEAN",
    "CONCATENATION",
    "PAD",
    "PADV2",
    "RESHAPE",
    "SQUEEZE",
    "EXPAND_DIMS",
    "SVDF",
]
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
            kw["data"] = np.array(
                draw(
                    st.lists(
                        st.integers(max(lo, -10), min(hi, 10)),
                        min_size=int(np.prod(shape)),
                        max_size=int(np.prod(shape)),
                    )
                ),
                dtype=dtype,
            ).reshape(shape)
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


# ---- arity: every op's inputs and outputs are checked once, before folding or lowering ------------


def _conv_model(op: str, inputs, outputs=None) -> bytes:
    """A one-op CONV_2D/DEPTHWISE_CONV_2D/FULLY_CONNECTED/pool model with its inputs replaced by
    `inputs` (names: x, w, b, or -1 for an absent one)."""
    mb = ModelBuilder()
    q = {"scale": 0.05, "zero_point": 0}
    if op == "FULLY_CONNECTED":
        x, y = mb.tensor([1, 4], "int8", **q), mb.tensor([1, 3], "int8", **q)
        w = mb.tensor([3, 4], "int8", scale=0.02, zero_point=0, data=np.ones((3, 4)))
        opts = {}
    else:
        x, y = mb.tensor([1, 4, 4, 3], "int8", **q), mb.tensor([1, 4, 4, 3], "int8", **q)
        w = mb.tensor(
            [3, 1, 1, 3] if op == "CONV_2D" else [1, 1, 1, 3],
            "int8",
            scale=0.02,
            zero_point=0,
            data=np.ones((3, 1, 1, 3) if op == "CONV_2D" else (1, 1, 1, 3)),
        )
        opts = {"padding": "SAME"} if "CONV" in op else {"padding": "SAME", "filter_height": 1, "filter_width": 1}
        opts.update({"depth_multiplier": 1} if op == "DEPTHWISE_CONV_2D" else {})
    b = mb.tensor([3], "int32", scale=0.001, zero_point=0, data=np.zeros(3))
    names = {"x": x, "w": w, "b": b, -1: -1}
    mb.op(op, [names[n] for n in inputs], [y] if outputs is None else [names.get(n, y) for n in outputs], **opts)
    return mb.build([x], [y])


@pytest.mark.parametrize(
    "op, inputs, outputs, match",
    [
        ("CONV_2D", [], None, r"Op 0 \(CONV_2D\) has 0 inputs \[\]; it takes input, filter and an optional bias"),
        ("CONV_2D", ["x"], None, r"has 1 input \[\d\]; it takes input, filter and an optional bias"),
        ("CONV_2D", ["x", -1, "b"], None, r"has no filter \(input 1 is -1\)"),
        ("CONV_2D", ["x", "w", "b", "b"], None, r"has 4 inputs"),
        ("CONV_2D", ["x", "w", "b"], [], r"has 0 outputs"),
        ("DEPTHWISE_CONV_2D", [], None, r"Op 0 \(DEPTHWISE_CONV_2D\) has 0 inputs"),
        ("DEPTHWISE_CONV_2D", ["x"], None, r"has 1 input"),
        (
            "FULLY_CONNECTED",
            [],
            None,
            r"Op 0 \(FULLY_CONNECTED\) has 0 inputs \[\]; it takes input, weights and an optional bias",
        ),
        ("FULLY_CONNECTED", ["x"], None, r"has 1 input"),
        ("FULLY_CONNECTED", [-1, "w"], None, r"has no input \(input 0 is -1\)"),
        ("AVERAGE_POOL_2D", [], None, r"Op 0 \(AVERAGE_POOL_2D\) has 0 inputs \[\]; it takes input\. "),
        ("MAX_POOL_2D", [], None, r"Op 0 \(MAX_POOL_2D\) has 0 inputs"),
    ],
)
def test_missing_or_extra_inputs_are_a_model_error(op, inputs, outputs, match):
    from tinyflow.compile.compiler import compile_model

    with pytest.raises(ModelError, match=match) as info:
        compile_model(_conv_model(op, inputs, outputs))
    assert info.value.hint


@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D"])
def test_the_valid_arity_still_compiles(op):
    from tinyflow.compile.compiler import compile_model

    full = ["x"] if "POOL" in op else ["x", "w", "b"]
    assert compile_model(_conv_model(op, full)).sources
    if "POOL" not in op:  # the bias is optional: absent or -1
        assert compile_model(_conv_model(op, ["x", "w"])).sources
        assert compile_model(_conv_model(op, ["x", "w", -1])).sources


def test_every_lowered_op_declares_its_arity():
    from tinyflow.compile.ops import arity_for, registry

    assert all(arity_for(name) for name in registry())


# ---- fuzz: corpus models mutated through the object API --------------------------------------------

FUZZ_MODELS = [
    "tflm/hello_world_int8.tflite",
    "tflm/micro_speech_quantized.tflite",
    "tflm/keyword_scrambled_8bit.tflite",
    "mlperf_tiny/kws_ref_model.tflite",
]
MUTATIONS = [
    "drop_input",
    "absent_input",
    "swap_input",
    "extra_input",
    "drop_output",
    "swap_output",
    "shape",
    "dim",
    "rank0",
    "type",
    "buffer_empty",
    "buffer_cut",
    "graph_inputs",
    "graph_outputs",
    "opcode",
    "scale",
    "option",
]
_PARSED: dict = {}


def _mutant(rel: str, mutations) -> bytes:
    """`rel` with each (kind, op, tensor, value) mutation applied, packed with tinyflow.tflite.writer."""
    import copy

    import ai_edge_litert.schema_py_generated as schema

    from conftest import corpus_path
    from tinyflow.tflite.writer import pack

    if rel not in _PARSED:
        _PARSED[rel] = schema.ModelT.InitFromPackedBuf(corpus_path(rel).read_bytes(), 0)
    m = copy.deepcopy(_PARSED[rel])
    sg = m.subgraphs[0]
    for kind, a, b, v in mutations:
        op, t = sg.operators[a % len(sg.operators)], sg.tensors[b % len(sg.tensors)]
        ins, outs = list(op.inputs), list(op.outputs)
        pick = b % len(sg.tensors)
        if kind == "drop_input" and ins:
            del ins[v % len(ins)]
        elif kind == "absent_input" and ins:
            ins[v % len(ins)] = -1
        elif kind == "swap_input" and ins:
            ins[v % len(ins)] = pick
        elif kind == "extra_input":
            ins.append(pick)
        elif kind == "drop_output" and outs:
            del outs[v % len(outs)]
        elif kind == "swap_output" and outs:
            outs[v % len(outs)] = pick
        elif kind == "shape":
            t.shape = [1 + (v >> (3 * k)) % 9 for k in range(v % 6)]
        elif kind == "dim" and t.shape is not None and len(t.shape):
            t.shape[v % len(t.shape)] = [0, 1, 2, 3, 255, 1 << 16, -1, 1 << 30][v % 8]
        elif kind == "rank0":
            t.shape = []
        elif kind == "type":
            t.type = v % 18
        elif kind == "buffer_empty":
            t.buffer = 0
        elif kind == "buffer_cut" and t.buffer and m.buffers[t.buffer].data is not None:
            m.buffers[t.buffer].data = m.buffers[t.buffer].data[: v % max(len(m.buffers[t.buffer].data), 1)]
        elif kind == "graph_inputs":
            sg.inputs = [] if v % 3 == 0 else [pick] * (1 + v % 2)
        elif kind == "graph_outputs":
            sg.outputs = [] if v % 3 == 0 else [pick]
        elif kind == "opcode":
            code = m.operatorCodes[a % len(m.operatorCodes)]
            code.builtinCode = code.deprecatedBuiltinCode = [0, 1, 3, 4, 9, 17, 22, 25, 28, 40, 47, 83][v % 12]
        elif kind == "option" and op.builtinOptions is not None and vars(op.builtinOptions):
            field = sorted(vars(op.builtinOptions))[v % len(vars(op.builtinOptions))]
            value = [-1, 0, 2, 99, 1 << 20][(v >> 8) % 5]
            old = getattr(op.builtinOptions, field)
            setattr(
                op.builtinOptions,
                field,
                [value] * 3
                if isinstance(old, (list, np.ndarray))
                else bool(value)
                if isinstance(old, bool)
                else float(value)
                if isinstance(old, float)
                else value,
            )
        elif kind == "scale" and t.quantization is not None and t.quantization.scale is not None:
            t.quantization.scale = [[0.0, -1.0, float("nan"), 1e-30, 1e30][v % 5]] * len(t.quantization.scale)
        op.inputs, op.outputs = ins, outs
    return pack(m)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    rel=st.sampled_from(FUZZ_MODELS),
    mutations=st.lists(
        st.tuples(
            st.sampled_from(MUTATIONS), st.integers(0, 1 << 16), st.integers(0, 1 << 16), st.integers(0, 1 << 20)
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_mutated_corpus_models_read_analyze_and_compile_or_fail_with_a_model_error(rel, mutations):
    """The reader, the analysis inspect prints and compile-time validation: a ModelError or a result, nothing else."""
    from tinyflow.analysis import analyze
    from tinyflow.compile.compiler import compile_model
    from tinyflow.tflite import read_model

    try:
        data = _mutant(rel, mutations)
    except Exception:  # the schema's packer refuses some mutations (e.g. a type out of its enum): not a model
        return
    try:
        model = read_model(data)
        analyze(model)
        compiled = compile_model(model)
    except ModelError as exc:
        assert str(exc).strip() and exc.hint
        return
    assert compiled.sources


# ---- options that size loops: zero or negative is a ModelError before lowering (issue #9) ----------


def _window_model(op: str, **options) -> bytes:
    """A valid one-op 1x4x4x3 CONV_2D/DEPTHWISE_CONV_2D/pool model whose options are then overridden."""
    mb = ModelBuilder()
    q = {"scale": 0.05, "zero_point": 0}
    x, y = mb.tensor([1, 4, 4, 3], "int8", **q), mb.tensor([1, 4, 4, 3], "int8", **q)
    ins = [x]
    opts = {"padding": "SAME", "stride_h": 1, "stride_w": 1}
    if "CONV" in op:
        shape = [3, 1, 1, 3] if op == "CONV_2D" else [1, 1, 1, 3]
        ins.append(mb.tensor(shape, "int8", scale=0.02, zero_point=0, data=np.ones(shape)))
        opts.update(dilation_h_factor=1, dilation_w_factor=1)
        opts.update({"depth_multiplier": 1} if op == "DEPTHWISE_CONV_2D" else {})
    else:
        opts.update(filter_height=1, filter_width=1)
    opts.update(options)
    mb.op(op, ins, [y], **opts)
    return mb.build([x], [y])


@pytest.mark.parametrize(
    "op, options",
    [
        ("DEPTHWISE_CONV_2D", {"depth_multiplier": 0}),
        ("DEPTHWISE_CONV_2D", {"depth_multiplier": -3}),
        ("DEPTHWISE_CONV_2D", {"stride_w": 0}),
        ("DEPTHWISE_CONV_2D", {"dilation_h_factor": 0}),
        ("CONV_2D", {"stride_h": -1}),
        ("CONV_2D", {"dilation_w_factor": 0}),
        ("AVERAGE_POOL_2D", {"filter_height": 0}),
        ("MAX_POOL_2D", {"filter_width": -2}),
        ("MAX_POOL_2D", {"stride_w": 0}),
    ],
)
def test_zero_or_negative_window_options_are_a_model_error(op, options):
    from tinyflow.compile.compiler import compile_model

    ((key, value),) = options.items()
    with pytest.raises(ModelError, match=rf"Op 0 \({op}\) has {key} {value}; it must be at least 1") as info:
        compile_model(_window_model(op, **options))
    assert info.value.hint


@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"])
def test_valid_window_options_compile(op):
    from tinyflow.compile.compiler import compile_model

    assert compile_model(_window_model(op)).sources
