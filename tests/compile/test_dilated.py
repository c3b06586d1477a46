"""Dilated convolutions: SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND as compiled ops (kernels vs TFLM,
hostile parameters), the real batch between them in dynamic-batch models, and Keras-made dilated
Conv2D / DepthwiseConv2D / Conv1D models compiled and run bit-exact with tflite_micro.

A dynamic-batch model (from_keras_model) declares batch 1 on the tensors between the two ops,
where the real batch is block_h * block_w, and TFLM computes something else on it; TFLM's
SPACE_TO_BATCH_ND also pads with a value it never initializes. So the oracle for whole models is
TFLM on `static_twin`: the real shapes written in, the padding an explicit PADV2 of 0."""

from __future__ import annotations

import ctypes
import functools
import zlib
from pathlib import Path

import numpy as np
import pytest
from compiled_helpers import compare_with_tflm, random_inputs, require_cc, tflm_runtime
from elementwise_kernels import run_tflm
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyflow.compile import compile_model
from tinyflow.compile.ops import space_batch, supported_ops
from tinyflow.errors import ModelError
from tinyflow.tflite import read_model
from tinyflow.tflite.writer import ModelBuilder, pack

ROOT = Path(__file__).resolve().parents[2]


# --- hostile parameters (pure Python: no compiler, no TensorFlow) ---------------------------------


@pytest.mark.parametrize(
    ("fn", "shape", "block", "pairs", "match"),
    [
        (space_batch.space_to_batch, [1, 4, 4, 1], [0, 2], [[0, 0], [0, 0]], "block shape"),
        (space_batch.space_to_batch, [1, 4, 4, 1], [2, 2], [[-1, 1], [0, 0]], "paddings"),
        (space_batch.space_to_batch, [1, 5, 4, 1], [2, 2], [[0, 0], [0, 0]], "not a multiple"),
        (space_batch.space_to_batch, [1, 4, 4, 1], [2], [[0, 0]], "do not match"),
        (space_batch.space_to_batch, [1, 4, 4, 1], [1 << 20, 1], [[0, 0], [0, 0]], "outside"),
        (space_batch.space_to_batch, [1, 4, 4, 4, 1], [2, 2, 2], [[0, 0]] * 3, "rank 5"),
        (space_batch.space_to_batch, [1, 4, 4, 1], [2.5, 2.0], [[0, 0], [0, 0]], "integers"),
        (space_batch.batch_to_space, [4, 2, 2, 1], [2, 2], [[0, 5], [0, 0]], "remove the whole"),
        (space_batch.batch_to_space, [4, 2, 2, 1], [2, 2], [[0, 0], [-2, 0]], "crops"),
        (space_batch.batch_to_space, [3, 2, 2, 1], [2, 2], [[0, 0], [0, 0]], "not a multiple"),
        (space_batch.batch_to_space, [4, 2, 2, 1], [0, 4], [[0, 0], [0, 0]], "block shape"),
    ],
)
def test_hostile_parameters_are_refused_with_a_clear_error(fn, shape, block, pairs, match):
    with pytest.raises(ModelError, match=match) as exc:
        fn(shape, np.asarray(block), np.asarray(pairs))
    assert exc.value.hint


def test_shapes_follow_tflm():
    p, out = space_batch.space_to_batch([1, 12, 11, 3], np.array([2, 3]), np.array([[2, 2], [1, 3]]))
    assert out == [6, 8, 5, 3] and (p["before_h"], p["before_w"], p["pad_value"]) == (2, 1, [0, 0, 0, 0])
    p, out = space_batch.batch_to_space([6, 8, 5, 4], np.array([2, 3]), np.array([[2, 2], [1, 3]]))
    assert out == [1, 12, 11, 4] and p["input_batch"] == 6
    assert space_batch.space_to_batch([1, 10, 3], np.array([4]), np.array([[3, 3]]))[1] == [4, 4, 3]


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_hostile_models_give_a_model_error_or_compile(data):
    """Random shapes, constants, types and declared outputs around the two ops (and the conv a
    fusion would take): a clean ModelError or a compiled model, never another exception."""
    draw = data.draw
    shape = draw(st.lists(st.integers(0, 6), min_size=1, max_size=5))
    m = max(len(shape) - 2, 1)
    ints = st.integers(-3, 5)
    block = draw(st.lists(ints, min_size=m - 1, max_size=m + 1))
    pairs = draw(st.lists(ints, min_size=2 * m - 1, max_size=2 * m + 1))
    dtype = draw(st.sampled_from(["int8", "int8", "float32", "int16"]))
    q = (0.05, draw(st.integers(-128, 127))) if dtype != "float32" else (None, None)
    mb = ModelBuilder()
    x = mb.tensor(shape, dtype, *q)
    out_shape = draw(st.lists(st.integers(1, 8), min_size=len(shape), max_size=len(shape)))
    y = mb.tensor(out_shape, dtype, *q)
    name = draw(st.sampled_from(["SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND"]))
    pair_shape = [len(pairs) // 2, 2] if len(pairs) % 2 == 0 else [len(pairs)]
    consts = [mb.tensor([len(block)], "int32", data=block), mb.tensor(pair_shape, "int32", data=pairs)]
    mb.op(name, [x, *consts], [y])
    model = mb.model([x], [y])
    if draw(st.booleans()):
        for t in model.subgraphs[0].tensors:
            if not t.buffer and t.shape:
                t.shapeSignature = [-1, *t.shape[1:]]
    try:
        compile_model(pack(model))
    except ModelError as exc:
        assert exc.hint


def _chain(
    zp: int = -5,
    block=(2, 2),
    pads=((2, 2), (2, 2)),
    crops=((0, 0), (0, 0)),
    dynamic=False,
    const_block=True,
    kind="CONV_2D",
):
    """SPACE_TO_BATCH_ND -> `kind` 3x3 VALID -> BATCH_TO_SPACE_ND on a 1x12x12x3 int8 input, as the
    converter writes a 3x3 conv with dilation `block`; `dynamic`: batch 1 declared, signature -1."""
    oc = 4 if kind == "CONV_2D" else 3
    rng = np.random.default_rng(7)
    bh, bw = block
    h, w = 12 + sum(pads[0]), 12 + sum(pads[1])
    n = bh * bw
    s1 = [n, h // bh, w // bw, 3]
    s2 = [n, s1[1] - 2, s1[2] - 2, oc]
    s3 = [1, s2[1] * bh - sum(crops[0]), s2[2] * bw - sum(crops[1]), oc]
    mb = ModelBuilder()
    x = mb.tensor([1, 12, 12, 3], "int8", 0.05, zp)
    blk = mb.tensor([2], "int32", data=list(block)) if const_block else mb.tensor([2], "int32")
    t1 = mb.tensor([1, *s1[1:]] if dynamic else s1, "int8", 0.05, zp)
    mb.op("SPACE_TO_BATCH_ND", [x, blk, mb.tensor([2, 2], "int32", data=pads)], [t1])
    fshape = [oc, 3, 3, 3] if kind == "CONV_2D" else [1, 3, 3, oc]
    ws = [0.01, 0.02, 0.015, 0.03][:oc]
    qdim = 0 if kind == "CONV_2D" else 3
    f = mb.tensor(fshape, "int8", ws, [0] * oc, data=rng.integers(-127, 128, size=fshape), quantized_dimension=qdim)
    b = mb.tensor([oc], "int32", [0.05 * s for s in ws], [0] * oc, data=rng.integers(-500, 500, oc))
    t2 = mb.tensor([1, *s2[1:]] if dynamic else s2, "int8", 0.1, 3)
    options = {"depth_multiplier": 1} if kind == "DEPTHWISE_CONV_2D" else {}
    mb.op(kind, [t1, f, b], [t2], padding="VALID", **options)
    y = mb.tensor(s3, "int8", 0.1, 3)
    mb.op(
        "BATCH_TO_SPACE_ND",
        [t2, mb.tensor([2], "int32", data=list(block)), mb.tensor([2, 2], "int32", data=crops)],
        [y],
    )
    inputs = [x] if const_block else [x, blk]
    model = mb.model(inputs, [y])
    if dynamic:
        for t in model.subgraphs[0].tensors:
            if t.buffer == 0 or t.buffer is None:
                t.shapeSignature = [-1, *t.shape[1:]]
    return pack(model)


def real_shapes(compiled, data: bytes) -> dict[int, list[int]]:
    """Shapes the compiler resolved for the activations of the file `data` (not the views it adds)."""
    n = len(read_model(data).tensors)
    return {t.index: list(t.shape) for t in compiled.model.tensors[:n] if t.data is None}


def static_twin(data: bytes, shapes: dict[int, list[int]]) -> bytes:
    """The oracle model: `data` with the given tensor shapes (no shape signatures, which TFLM
    mis-sizes) and each SPACE_TO_BATCH_ND's padding made an explicit PADV2 with 0 before it.

    TFLM's SPACE_TO_BATCH_ND pads with its OpData's never-initialized output_offset: 0 on a fresh
    (device, static) arena, stale bytes in a reused one, so a test comparing the border of a SAME
    dilated conv would be flaky. PADV2 with constant 0 computes the fresh-arena result every time."""
    import ai_edge_litert.schema_py_generated as schema

    m = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(data, 0))
    sg = m.subgraphs[0]
    for i, shape in shapes.items():
        sg.tensors[i].shape = np.asarray(shape, np.int32)
        sg.tensors[i].shapeSignature = None

    def const(values, dtype, like=None):
        buf = schema.BufferT()
        buf.data = np.frombuffer(np.ascontiguousarray(values, dtype).tobytes(), np.uint8)
        m.buffers.append(buf)
        t = schema.TensorT()
        t.shape, t.buffer, t.name = np.asarray(np.shape(values), np.int32), len(m.buffers) - 1, f"twin{len(sg.tensors)}"
        t.type = like.type if like is not None else schema.TensorType.INT32
        t.quantization = like.quantization if like is not None else None
        sg.tensors.append(t)
        return len(sg.tensors) - 1

    pad_code = schema.OperatorCodeT()
    pad_code.builtinCode = pad_code.deprecatedBuiltinCode = schema.BuiltinOperator.PADV2
    pad_code.version = 1
    m.operatorCodes.append(pad_code)
    codes = [c.builtinCode for c in m.operatorCodes]
    ops = []
    for op in sg.operators:
        if codes[op.opcodeIndex] == schema.BuiltinOperator.SPACE_TO_BATCH_ND:
            x = sg.tensors[op.inputs[0]]
            pads = np.frombuffer(bytes(m.buffers[sg.tensors[op.inputs[2]].buffer].data), np.int32).reshape(-1, 2)
            full = np.concatenate([[[0, 0]], pads, [[0, 0]]]).astype(np.int32)
            padded = schema.TensorT()
            padded.shape = np.asarray(x.shape, np.int32) + full.sum(axis=1).astype(np.int32)
            padded.type, padded.quantization, padded.name = x.type, x.quantization, f"twin{len(sg.tensors)}"
            sg.tensors.append(padded)
            padded_index = len(sg.tensors) - 1
            pad_op = schema.OperatorT()
            pad_op.opcodeIndex = len(m.operatorCodes) - 1
            pad_op.inputs = [
                op.inputs[0],
                const(full, np.int32),
                const([0], np.dtype(np.float32 if x.type == 0 else np.int8), x),
            ]
            pad_op.outputs = [padded_index]
            ops.append(pad_op)
            op.inputs = [padded_index, op.inputs[1], const(np.zeros_like(pads), np.int32)]
        ops.append(op)
    sg.operators = ops
    return pack(m)


def test_non_constant_block_shape_is_refused():
    with pytest.raises(ModelError, match=r"SPACE_TO_BATCH_ND.*constant block shape"):
        compile_model(_chain(const_block=False))


def test_declared_shape_that_disagrees_is_refused():
    bad = _chain(crops=((0, 1), (0, 0)))  # declared output is 1 row short of what the crops leave
    m = read_model(bad)
    assert [op.name for op in m.ops] == ["SPACE_TO_BATCH_ND", "CONV_2D", "BATCH_TO_SPACE_ND"]
    compile_model(bad)  # consistent: crops shrink the declared output too
    import ai_edge_litert.schema_py_generated as schema

    mt = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(bad, 0))
    mt.subgraphs[0].tensors[mt.subgraphs[0].outputs[0]].shape = np.asarray([1, 12, 12, 4], np.int32)
    with pytest.raises(ModelError, match=r"BATCH_TO_SPACE_ND.*declares \[1, 12, 12, 4\]"):
        compile_model(pack(mt))


def test_dynamic_batch_gets_real_shapes():
    c = compile_model(_chain(dynamic=True))
    shapes = [list(c.model.tensors[op.outputs[0]].shape) for op in c.model.ops]
    assert shapes == [[4, 8, 8, 3], [4, 6, 6, 4], [1, 12, 12, 4]]
    # Input and SPACE_TO_BATCH_ND output live together, at their real sizes (declared: 432 + 192).
    assert c.plan.arena_bytes >= 12 * 12 * 3 + 4 * 8 * 8 * 3


def test_cli_compiles_a_dynamic_batch_dilated_model(tmp_path):
    """`tinyflow compile` refused SPACE_TO_BATCH_ND ("not supported by the compiled runtime")."""
    import json

    from click.testing import CliRunner

    from tinyflow.cli.main import cli

    model = tmp_path / "dilated.tflite"
    model.write_bytes(_chain(dynamic=True))
    res = CliRunner().invoke(cli, ["compile", str(model), "-o", str(tmp_path / "c"), "--no-tflm-arena", "--json"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "c" / "dilated.c").is_file() and json.loads(res.output)


def test_ops_are_registered_for_the_compiled_runtime_and_the_tflm_firmware():
    from tinyflow.export.platformio.tflm_glue import resolver_method

    assert {"SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND"} <= set(supported_ops())
    assert resolver_method("SPACE_TO_BATCH_ND") == "SpaceToBatchNd"
    assert resolver_method("BATCH_TO_SPACE_ND") == "BatchToSpaceNd"


# --- the kernels vs TFLM ---------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _kernels():
    """This file's two kernels as a shared library."""
    from tinyflow.build.cc import CBuild, build_executable

    require_cc()
    build = CBuild(
        sources=[ROOT / "firmware" / "kernels" / f"{k}.c" for k in ("space_to_batch_nd", "batch_to_space_nd")],
        include_dirs=[ROOT / "firmware" / "include"],
        cflags=["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-fPIC"],
        ldflags=["-shared"],
    )
    return ctypes.CDLL(str(build_executable(build, "libtinyflow_space_batch.so")))


def _run_kernel(name: str, params: dict, x: np.ndarray, out_shape) -> tuple[int, np.ndarray]:
    x = np.ascontiguousarray(x)
    got = np.full(out_shape, 99, x.dtype)
    fn = getattr(_kernels(), name)
    status = fn(
        ctypes.byref(space_batch.SPACE_BATCH.ctypes_value(params)),
        x.ctypes.data_as(ctypes.c_void_p),
        got.ctypes.data_as(ctypes.c_void_p),
    )
    return status, got


def _s2b_reference(x: np.ndarray, block, pads) -> tuple[np.ndarray, np.ndarray]:
    """numpy SPACE_TO_BATCH_ND padding with 0, and the mask of output elements that are padding."""
    x4 = x if x.ndim == 4 else x[:, :, None, :]
    block = list(block) + [1] * (2 - len(block))
    pads = [list(p) for p in pads] + [[0, 0]] * (2 - len(pads))
    widths = [(0, 0), tuple(pads[0]), tuple(pads[1]), (0, 0)]
    xp, real = np.pad(x4, widths), np.pad(np.ones(x4.shape, bool), widths)
    n, h, w, c = xp.shape
    bh, bw = block

    def move(a):
        a = (
            a.reshape(n, h // bh, bh, w // bw, bw, c)
            .transpose(2, 4, 0, 1, 3, 5)
            .reshape(n * bh * bw, h // bh, w // bw, c)
        )
        return np.ascontiguousarray(a if x.ndim == 4 else a[:, :, 0, :])

    return move(xp), ~move(real)


def _single_op(name: str, shape, out_shape, dtype, q, block, pairs) -> bytes:
    spatial = len(shape) - 2
    mb = ModelBuilder()
    a, y = mb.tensor(shape, dtype, *q), mb.tensor(out_shape, dtype, *q)
    consts = [mb.tensor([spatial], "int32", data=block), mb.tensor([spatial, 2], "int32", data=pairs)]
    mb.op(name, [a, *consts], [y])
    return mb.build([a], [y])


@pytest.mark.firmware
@settings(max_examples=40, deadline=None)
@given(
    rank=st.sampled_from([3, 4]),
    dtype=st.sampled_from(["int8", "float32"]),
    batch=st.integers(1, 2),
    data=st.data(),
)
def test_kernels_match_tflm(rank, dtype, batch, data):
    spatial = rank - 2
    block = [data.draw(st.integers(1, 3)) for _ in range(spatial)]
    pads = [[data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))] for _ in block]
    sizes = [data.draw(st.integers(1, 6)) for _ in range(spatial)]
    extra = [data.draw(st.integers(0, 1)) for _ in range(spatial)]
    # Make each padded size a multiple of its block, as TFLM requires.
    for k, b in enumerate(block):
        pads[k][1] += (-(sizes[k] + sum(pads[k]))) % b
    shape = [batch, *sizes, data.draw(st.integers(1, 4))]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    q = (0.05, data.draw(st.integers(-128, 127))) if dtype == "int8" else (None, None)
    x = (rng.integers(-128, 128, shape) if dtype == "int8" else rng.standard_normal(shape)).astype(dtype)
    p, mid = space_batch.space_to_batch(shape, np.array(block), np.array(pads), x.itemsize)
    want, padding = _s2b_reference(x, block, pads)
    status, got = _run_kernel("tinyflow_space_to_batch_nd", p, x, mid)
    assert status == 0
    np.testing.assert_array_equal(got, want)
    # TFLM's pad value is its OpData's never-initialized output_offset (0 on a fresh arena, stale
    # bytes otherwise), so it is the oracle for the moved elements only.
    tflm = run_tflm(_single_op("SPACE_TO_BATCH_ND", shape, mid, dtype, q, block, pads), [x])[0].reshape(mid)
    np.testing.assert_array_equal(got[~padding], tflm[~padding])
    # And back, with crops that undo the paddings (as the converter writes them) or crop more.
    crops = [[lo, hi + extra[k] * (sizes[k] > 1)] for k, (lo, hi) in enumerate(pads)]
    p2, back = space_batch.batch_to_space(mid, np.array(block), np.array(crops), x.itemsize)
    want2 = run_tflm(_single_op("BATCH_TO_SPACE_ND", mid, back, dtype, q, block, crops), [want])[0].reshape(back)
    status, got2 = _run_kernel("tinyflow_batch_to_space_nd", p2, want, back)
    assert status == 0
    np.testing.assert_array_equal(got2, want2)
    if not any(extra):
        np.testing.assert_array_equal(got2, x)  # crops that undo the paddings restore the input


@pytest.mark.firmware
@pytest.mark.parametrize(("dtype", "value"), [("float32", 1.5), ("int8", -7), ("float32", 0.0)])
def test_kernel_pads_with_the_given_element(dtype, value):
    x = np.arange(1, 13, dtype=dtype).reshape(1, 3, 2, 2)
    p, out = space_batch.space_to_batch(x.shape, np.array([2, 2]), np.array([[1, 0], [1, 1]]), x.itemsize)
    p["pad_value"] = list(np.asarray([value], dtype).tobytes().ljust(4, b"\0"))
    want, padding = _s2b_reference(x, [2, 2], [[1, 0], [1, 1]])
    want[padding] = value
    status, got = _run_kernel("tinyflow_space_to_batch_nd", p, x, out)
    assert status == 0
    np.testing.assert_array_equal(got, want)


@pytest.mark.firmware
def test_kernels_refuse_inconsistent_parameters():
    x = np.zeros((1, 4, 4, 1), np.int8)
    p, out = space_batch.space_to_batch([1, 4, 4, 1], np.array([2, 2]), np.array([[0, 0], [0, 0]]))
    for bad in ({"block_h": 0}, {"output_batch": 3}, {"before_w": -1}, {"element_bytes": 3}, {"block_w": 1 << 30}):
        assert _run_kernel("tinyflow_space_to_batch_nd", {**p, **bad}, x, out)[0] != 0, bad
    p2, out2 = space_batch.batch_to_space(out, np.array([2, 2]), np.array([[0, 0], [0, 0]]))
    y = np.zeros(out, np.int8)
    for bad in ({"output_h": 9}, {"input_batch": 5}, {"depth": 0}, {"block_h": 1 << 30}):
        assert _run_kernel("tinyflow_batch_to_space_nd", {**p2, **bad}, y, out2)[0] != 0, bad


# --- whole models on the host ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chain", "ops"),
    [
        # SAME-like padding is read by the border outputs: exact as one conv only with zero point 0.
        ({"zp": -5}, ["SPACE_TO_BATCH_ND", "CONV_2D", "BATCH_TO_SPACE_ND"]),
        ({"zp": 0}, ["CONV_2D"]),
        # VALID: the kept outputs never read padding, so any zero point fuses.
        ({"zp": -5, "pads": ((0, 0), (0, 0))}, ["CONV_2D"]),
        ({"zp": 9, "pads": ((0, 2), (0, 0)), "crops": ((0, 2), (0, 0))}, ["CONV_2D"]),
        ({"zp": -5, "dynamic": True, "block": (2, 3), "pads": ((2, 2), (3, 3))}, None),
        ({"zp": 0, "kind": "DEPTHWISE_CONV_2D"}, ["SPACE_TO_BATCH_ND", "DEPTHWISE_CONV_2D", "BATCH_TO_SPACE_ND"]),
    ],
)
def test_fused_into_a_dilated_conv_only_where_exact(chain, ops):
    c = compile_model(_chain(**chain))
    assert c.op_names == (ops or ["SPACE_TO_BATCH_ND", "CONV_2D", "BATCH_TO_SPACE_ND"])
    if c.op_names == ["CONV_2D"]:
        assert ".dilation_h = 2" in c.sources["model.c"]


@pytest.mark.firmware
@pytest.mark.parametrize(
    "chain",
    [
        {"zp": -5},
        {"zp": 0},
        {"zp": -5, "pads": ((0, 0), (0, 0))},
        {"zp": 9, "pads": ((0, 2), (0, 0)), "crops": ((0, 2), (0, 0))},
    ],
)
def test_space_to_batch_conv_chain_was_refused_and_now_matches_tflm(chain):
    """Fused or not, the compiled model computes what TFLM computes on the three ops."""
    _check_against_twin(_chain(**chain), 3, f"s2b_chain_{zlib.crc32(repr(chain).encode())}")


def _check_against_twin(data: bytes, samples: int, name: str) -> None:
    """Compiled (real shapes resolved) == TFLM on the model's static_twin."""
    from tinyflow.runtimes.compiled import HostModel

    require_cc()
    compiled = compile_model(data, name=name)
    twin = static_twin(data, real_shapes(compiled, data))
    interp = tflm_runtime().Interpreter.from_bytes(twin, arena_size=1 << 20)
    host = HostModel(compiled)
    rng = np.random.default_rng(3)
    for _ in range(samples):
        xs = random_inputs(compiled.model, rng)
        for i, x in enumerate(xs):
            interp.set_input(x, i)
        interp.invoke()
        got, want = host.run(*xs)[0], interp.get_output(0)
        np.testing.assert_array_equal(got, want.reshape(got.shape))


@pytest.mark.firmware
@pytest.mark.parametrize("kind", ["CONV_2D", "DEPTHWISE_CONV_2D"])
def test_dynamic_batch_chain_matches_tflm_on_real_shapes(kind):
    _check_against_twin(_chain(dynamic=True, kind=kind, block=(2, 3), pads=((2, 2), (3, 3))), 3, f"s2b_dyn_{kind}")


# --- Keras-made models (TensorFlow) ----------------------------------------------------------

KERAS_CASES = {
    # name: (input shape, layer factory, Keras padding); built both ways: batch-1 export (the
    # converter fuses the dilation into the conv) and dynamic batch (SPACE_TO_BATCH_ND kept).
    "conv2d_d2_same": ((11, 9, 3), lambda L: L.Conv2D(4, 3, dilation_rate=2, padding="same")),
    "conv2d_d3_valid": ((13, 11, 3), lambda L: L.Conv2D(4, 3, dilation_rate=3, padding="valid", activation="relu")),
    "depthwise_d2_same": ((10, 10, 4), lambda L: L.DepthwiseConv2D(3, dilation_rate=2, padding="same")),
    "conv1d_d2_causal": ((32, 3), lambda L: L.Conv1D(4, 3, dilation_rate=2, padding="causal")),
    "conv1d_d4_same": ((30, 3), lambda L: L.Conv1D(4, 3, dilation_rate=4, padding="same")),
}


@pytest.fixture(scope="module")
def keras_models() -> dict[str, tuple[bytes, bytes]]:
    """name -> (batch-1 int8 .tflite, dynamic-batch int8 .tflite), built once."""
    pytest.importorskip("tensorflow")
    import keras
    import tensorflow as tf

    from tinyflow.model.quantize import to_tflite

    out = {}
    rng = np.random.default_rng(0)
    for name, (shape, make) in KERAS_CASES.items():
        keras.utils.set_random_seed(1)
        inp = keras.Input(shape)
        model = keras.Model(inp, make(keras.layers)(inp), name=name)
        calib = rng.normal(size=(16, *shape)).astype(np.float32)
        conv = tf.lite.TFLiteConverter.from_keras_model(model)  # dynamic batch, as users often convert
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda c=calib: ([s[None]] for s in c)
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = conv.inference_output_type = tf.int8
        out[name] = (to_tflite(model, calib), bytes(conv.convert()))
    return out


@pytest.mark.tf
@pytest.mark.firmware
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(KERAS_CASES))
def test_keras_dilated_models_match_tflm(keras_models, name):
    fused, dynamic = keras_models[name]
    assert "SPACE_TO_BATCH_ND" not in read_model(fused).op_names()
    assert "SPACE_TO_BATCH_ND" in read_model(dynamic).op_names()
    compare_with_tflm(fused, samples=3, name=f"{name}_fused")
    _check_against_twin(dynamic, 3, f"{name}_dyn")
    # VALID and causal (padding never read) fuse back into one dilated conv; SAME with a nonzero
    # input zero point cannot (see tinyflow/compile/dilate.py).
    fuses = name in ("conv2d_d3_valid", "conv1d_d2_causal")
    assert ("SPACE_TO_BATCH_ND" not in compile_model(dynamic).op_names) == fuses


# --- the Cortex-M4 build on QEMU ---------------------------------------------------------------


@pytest.mark.arm
@pytest.mark.qemu
@pytest.mark.slow
@pytest.mark.parametrize(
    "chain",
    [
        {"kind": "CONV_2D", "dynamic": True, "block": (2, 3), "pads": ((2, 2), (3, 3))},
        {"kind": "DEPTHWISE_CONV_2D", "dynamic": True, "block": (2, 3), "pads": ((2, 2), (3, 3))},
        {"kind": "CONV_2D", "dynamic": True, "pads": ((0, 0), (0, 0))},  # fused: one dilated conv
    ],
)
def test_dilated_chain_on_qemu_m4_matches_tflm(chain):
    """The Cortex-M4 conv/depthwise variants run batch 6 between the two ops, or the fused dilated
    conv; identical to TFLM."""
    from conftest import require_tool
    from tinyflow.build import arm
    from tinyflow.targets.client import DeviceClient
    from tinyflow.targets.machines import qemu_m4 as sim_qemu
    from tinyflow.workflows.device import open_device

    require_tool(arm.COMPILER)
    require_tool(sim_qemu.QEMU)
    model = _chain(**chain)
    compiled = compile_model(model)
    twin = static_twin(model, real_shapes(compiled, model))
    xs = random_inputs(compiled.model, np.random.default_rng(5))
    want = run_tflm(twin, xs)[0]
    port = open_device("sim://qemu-m4?board=nano33ble", model=model, timeout=30.0)
    try:
        client = DeviceClient(port)
        client.handshake()
        got = client.infer(xs).outputs[0]
    finally:
        port.close()
    np.testing.assert_array_equal(np.asarray(got).reshape(want.shape), want)
