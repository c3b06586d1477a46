"""SVDF int8 kernel vs TFLM over several invokes (the state carries over), random shapes and params."""

from __future__ import annotations

import numpy as np
import pytest
from elementwise_kernels import call, qparams, rand_int, tflm
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyflow.compile.ops import cstruct, svdf
from tinyflow.tflite.writer import ModelBuilder

pytestmark = pytest.mark.firmware


@settings(max_examples=25, deadline=None)
@given(
    n_in=st.integers(1, 12),
    units=st.integers(1, 5),
    rank=st.integers(1, 3),
    memory=st.integers(1, 6),
    batch=st.integers(1, 2),
    data=st.data(),
)
def test_svdf_matches_tflm_across_invokes(n_in, units, rank, memory, batch, data):
    filters = units * rank
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    qi, qs, qo = qparams(data.draw, st), qparams(data.draw, st), qparams(data.draw, st)
    wf_s, wt_s = data.draw(st.floats(0.001, 0.05)), data.draw(st.floats(0.001, 0.05))
    wf, wt = rand_int(rng, [filters, n_in]), rand_int(rng, [filters, memory])
    b = rng.integers(-2000, 2000, units).astype(np.int32)
    mb = ModelBuilder()
    x = mb.tensor([batch, n_in], "int8", *qi)
    twf = mb.tensor(wf.shape, "int8", wf_s, 0, data=wf)
    twt = mb.tensor(wt.shape, "int8", wt_s, 0, data=wt)
    tb = mb.tensor(
        [units], "int32", float(np.float32(qs[0]) * np.float32(wt_s)), 0, data=b
    )  # TFLM reads the bias scale unconditionally
    state = mb.tensor([batch, filters * memory], "int8", *qs, variable=True)
    y = mb.tensor([batch, units], "int8", *qo)
    mb.op("SVDF", [x, twf, twt, tb, state], [y], rank=rank, fused_activation_function="RELU")
    it = tflm().Interpreter.from_bytes(mb.build([x], [y]), arena_size=1 << 20)
    p = cstruct.SVDF.ctypes_value(svdf.prepare([batch, n_in], wf.shape, wt.shape, rank, qi, wf_s, wt_s, qs, qo))
    st_buf = np.zeros(batch * filters * memory, np.int8)
    call("tinyflow_svdf_reset_state", p, st_buf)
    assert (st_buf == qs[1]).all()
    for step in range(memory + 2):
        xin = rand_int(rng, [batch, n_in])
        it.set_input(xin, 0)
        it.invoke()
        got = np.zeros([batch, units], np.int8)
        assert call("tinyflow_svdf_s8", p, xin, wf, wt, b, st_buf, got) == 0
        np.testing.assert_array_equal(got, it.get_output(0).reshape(batch, units), err_msg=f"invoke {step}")


def test_svdf_chain_compiled_keeps_state_across_invokes():
    """Two stacked SVDFs through compile_model: state in the arena, reset to its zero point before
    every invoke (each sample independent, as tinyflow.runtimes.tflm.run and sim://tflm do)."""
    from tinyflow.compile.compiler import compile_model
    from tinyflow.runtimes.compiled import HostModel

    rng = np.random.default_rng(11)
    mb = ModelBuilder()
    x = mb.tensor([1, 10], "int8", 0.05, 3)
    prev = x
    for layer, (units, rank, memory) in enumerate([(4, 2, 5), (3, 1, 4)]):
        filters, n_in = units * rank, mb.tensors[prev].shape[1]
        qs, qo = (0.02, -5 + layer), (0.04, 2 - layer)
        wf = mb.tensor([filters, n_in], "int8", 0.01, 0, data=rand_int(rng, [filters, n_in]))
        wt = mb.tensor([filters, memory], "int8", 0.02, 0, data=rand_int(rng, [filters, memory]))
        b = mb.tensor(
            [units],
            "int32",
            float(np.float32(qs[0]) * np.float32(0.02)),
            0,
            data=rng.integers(-500, 500, units).astype(np.int32),
        )
        state = mb.tensor([1, filters * memory], "int8", *qs, variable=True)
        y = mb.tensor([1, units], "int8", *qo)
        mb.op("SVDF", [prev, wf, wt, b, state], [y], rank=rank)
        prev = y
    model = mb.build([x], [prev])
    it = tflm().Interpreter.from_bytes(model, arena_size=1 << 20)
    compiled = HostModel(compile_model(model, name="svdf_chain"))
    for step in range(8):
        xin = rand_int(rng, [1, 10])
        it.reset()
        it.set_input(xin, 0)
        it.invoke()
        np.testing.assert_array_equal(compiled.run(xin)[0], it.get_output(0), err_msg=f"invoke {step}")
