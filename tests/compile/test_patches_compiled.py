"""Patch-based inference through the real compiler, built on the host: identical to TFLM.

Every stage's output tensor is made a model output too, so a wrong band is seen where it happens,
not only through the (often saturated) final output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from compiled_helpers import random_inputs, require_cc
from elementwise_kernels import run_tflm
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tinyflow.compile import compile_model
from tinyflow.compile.planner import check_plan
from tinyflow.compile.quant import out_size
from tinyflow.errors import ModelError, UsageError
from tinyflow.tflite import read_model
from tinyflow.tflite.writer import ModelBuilder, pack

pytestmark = pytest.mark.firmware
MODELS = Path(__file__).resolve().parents[3] / "shared" / "models"
VWW = MODELS / "mlperf_tiny" / "vww_96_int8.tflite"
PD = MODELS / "tflm" / "person_detect.tflite"


def with_outputs(data: bytes, tensors: list[int]) -> bytes:
    """The model with `tensors` appended to its outputs (they are then computed whole)."""
    import ai_edge_litert.schema_py_generated as schema

    m = schema.ModelT.InitFromPackedBuf(data, 0)
    m.subgraphs[0].outputs = list(m.subgraphs[0].outputs) + [t for t in tensors]
    return pack(m)


def run_both(data: bytes, samples: int, **compile_options):
    """Compile with patches, run `samples` random inputs there and in TFLM; assert identical outputs."""
    from tinyflow.runtimes.compiled import HostModel

    require_cc()
    compiled = compile_model(data, name="patched", **compile_options)
    check_plan(compiled.plan)
    host = HostModel(compiled)
    m = compiled.model
    rng = np.random.default_rng(1)
    for _ in range(samples):
        xs = random_inputs(m, rng)
        want = run_tflm(data, xs, len(m.outputs))
        got = host.run(*xs)
        for k, (g, w) in enumerate(zip(got, want)):
            np.testing.assert_array_equal(np.asarray(g).ravel(), np.asarray(w).ravel(), err_msg=f"output {k}")
    return compiled


@st.composite
def conv_stacks(draw):
    """(model bytes, stage) : 2-5 conv/depthwise/pool layers, random strides, paddings, filters."""
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    mb = ModelBuilder()
    h, w, ch = draw(st.integers(5, 20)), draw(st.integers(1, 7)), draw(st.integers(1, 4))
    x = mb.tensor([1, h, w, ch], "int8", 0.05, draw(st.integers(-20, 20)))
    cur, layers, built = x, draw(st.integers(2, 5)), 0
    for _ in range(layers):
        kind = draw(st.sampled_from(["CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D"]))
        kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        s, pad = draw(st.integers(1, 2)), draw(st.sampled_from(["SAME", "VALID"]))
        oh, ow = out_size(pad, h, kh, s), out_size(pad, w, kw, 1)
        if oh < 1 or ow < 1:
            break
        scale, zp = 0.03 + 0.02 * draw(st.integers(0, 5)), draw(st.integers(-30, 30))
        if kind.endswith("POOL_2D"):
            y = mb.tensor(
                [1, oh, ow, ch], "int8", *mb.tensors[cur].quantization.scale, *mb.tensors[cur].quantization.zeroPoint
            )
            mb.op(kind, [cur], [y], padding=pad, stride_h=s, stride_w=1, filter_height=kh, filter_width=kw)
        else:
            oc = ch if kind == "DEPTHWISE_CONV_2D" else draw(st.integers(1, 6))
            fshape = [1, kh, kw, oc] if kind == "DEPTHWISE_CONV_2D" else [oc, kh, kw, ch]
            f = mb.tensor(
                fshape,
                "int8",
                [0.01] * oc,
                [0] * oc,
                data=rng.integers(-127, 128, fshape),
                quantized_dimension=3 if kind == "DEPTHWISE_CONV_2D" else 0,
            )
            bi = mb.tensor([oc], "int32", [0.0005] * oc, [0] * oc, data=rng.integers(-900, 900, oc))
            y = mb.tensor([1, oh, ow, oc], "int8", scale, zp)
            extra = {"depth_multiplier": 1} if kind == "DEPTHWISE_CONV_2D" else {}
            mb.op(
                kind, [cur, f, bi], [y], padding=pad, stride_h=s, stride_w=1, fused_activation_function="RELU6", **extra
            )
            ch = oc
        cur, h, w, built = y, oh, ow, built + 1
    assume(built >= 2)
    return _Model(mb.build([x], [cur])), built, h, draw(st.integers(1, 6))


class _Model(bytes):
    def __repr__(self) -> str:  # hypothesis prints failing cases: the shapes matter, not the bytes
        m = read_model(bytes(self))
        return "model(" + ", ".join(f"{op.name}{list(m.tensors[op.outputs[0]].shape)}" for op in m.ops) + ")"


@settings(max_examples=12, deadline=None)
@given(conv_stacks())
def test_random_conv_stacks_in_bands_match_tflm(case):
    data, n_ops, out_rows, band = case
    compiled = run_both(data, 2, patches=[(0, n_ops - 1, band)])
    assert compiled.stages and compiled.schedules[0].band_rows == band


def test_vww_in_two_stages_matches_tflm_with_every_stage_output():
    """Stage outputs (ops 3 and 7) checked too; bands of 1 and 2 rows."""
    m = read_model(VWW.read_bytes())
    data = with_outputs(VWW.read_bytes(), [m.ops[3].outputs[0], m.ops[7].outputs[0]])
    base = compile_model(VWW.read_bytes())
    compiled = run_both(data, 2, patches=[(0, 3, 1), (4, 7, 2)])
    assert [s.band_rows for s in compiled.schedules] == [1, 2]
    assert compiled.plan.arena_bytes < base.plan.arena_bytes


def test_person_detect_max_ram_half_of_today_matches_tflm():
    data = PD.read_bytes()
    base = compile_model(data)
    budget = base.plan.arena_bytes // 2
    compiled = run_both(data, 2, max_ram=budget)
    assert compiled.plan.arena_bytes <= budget and compiled.stages
    assert "for (uint32_t tf_band = 0;" in compiled.sources["patched.c"]  # same-shape bands: one loop


def test_default_plan_is_unchanged_and_budget_errors():
    data = PD.read_bytes()
    base = compile_model(data)
    assert not base.stages and "tf_shift_rows" not in next(iter(base.sources.values()))
    loose = compile_model(data, max_ram=base.plan.arena_bytes)  # met without patches: none used
    assert not loose.stages and loose.sources == base.sources
    with pytest.raises(ModelError, match=r"smallest plan with patch-based inference needs [\d,]+ bytes"):
        compile_model(data, max_ram=4000)
    with pytest.raises(ModelError, match=r"the model's input alone is 27,648 bytes"):
        compile_model(VWW.read_bytes(), max_ram=18444, stream_input="off")  # the 96x96x3 input held whole
    with pytest.raises(UsageError):
        compile_model(data, max_ram=0)
    with pytest.raises(UsageError, match="cannot run patch by patch"):
        compile_model(data, patches=[(0, 0, 1)])


def _two_convs(middle_is_output: bool) -> bytes:
    rng = np.random.default_rng(2)
    mb = ModelBuilder()
    x = mb.tensor([1, 10, 6, 2], "int8", 0.05, 3)
    cur, outs = x, []
    for k in range(2):
        f = mb.tensor(
            [3, 3, 3, 2 if k == 0 else 3],
            "int8",
            [0.01] * 3,
            [0] * 3,
            data=rng.integers(-127, 128, (3, 3, 3, 2 if k == 0 else 3)),
        )
        y = mb.tensor([1, 10, 6, 3], "int8", 0.04, -2)
        mb.op("CONV_2D", [cur, f, -1], [y], padding="SAME")
        cur = y
        if k == 0 and middle_is_output:
            outs.append(y)
    return mb.build([x], [*outs, cur])


def test_a_tensor_needed_whole_stops_a_stage():
    """An intermediate tensor that is also a model output must exist whole: no stage crosses it."""
    with pytest.raises(UsageError, match="cannot run patch by patch"):
        compile_model(_two_convs(True), patches=[(0, 1, 2)])
    run_both(_two_convs(False), 1, patches=[(0, 1, 2)])
