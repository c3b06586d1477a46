"""Streamed input (tinyflow.compile.stream): the first patch stage takes the model input row by row.

The generated library is fed through tinyflow_model_input_rows in random chunk sizes (rows split
anywhere) and must give TFLM's outputs exactly; the entry's contract (in order, offset 0 restarts,
invoke needs every byte, one invoke per input) is checked on the host build."""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np
import pytest
from compiled_helpers import random_inputs, require_cc
from elementwise_kernels import run_tflm
from hypothesis import Phase, given, settings
from test_patches_compiled import conv_stacks

from tinyflow.compile import compile_model
from tinyflow.compile.patches import Call, Layer, schedule
from tinyflow.compile.planner import check_plan
from tinyflow.compile.stream import band_tables, ring_rows
from tinyflow.errors import UsageError

MODELS = Path(__file__).resolve().parents[3] / "shared" / "models"
VWW = MODELS / "mlperf_tiny" / "vww_96_int8.tflite"
PD = MODELS / "tflm" / "person_detect.tflite"


class Streamed:
    """A streamed compiled model built as a host library, fed with ctypes."""

    def __init__(self, compiled):
        from tinyflow.runtimes.compiled import build_host_library

        require_cc()
        assert compiled.stream_ring > 0
        self.compiled = compiled
        self.lib = ctypes.CDLL(str(build_host_library(compiled)))
        self.lib.tinyflow_model_input.restype = ctypes.c_void_p
        self.lib.tinyflow_model_output.restype = ctypes.POINTER(ctypes.c_uint8)
        self.lib.tinyflow_model_input_rows.argtypes = [ctypes.c_int, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_uint32]
        assert self.lib.tinyflow_model_init() == 0
        assert self.lib.tinyflow_model_input(0) is None  # no whole input buffer

    def feed(self, offset: int, data: bytes) -> int:
        return self.lib.tinyflow_model_input_rows(0, offset, data, len(data))

    def stream(self, data: bytes, rng) -> None:
        at = 0
        while at < len(data):
            n = int(rng.integers(1, 700))
            assert self.feed(at, data[at : at + n]) == 0
            at += len(data[at : at + n])

    def outputs(self) -> list[np.ndarray]:
        m = self.compiled.model
        outs = []
        for k, i in enumerate(m.outputs):
            t = m.tensors[i]
            raw = ctypes.string_at(self.lib.tinyflow_model_output(k), t.nbytes)
            outs.append(np.frombuffer(raw, dtype=t.dtype).copy())
        return outs


def check_streamed(data: bytes, samples: int, **options) -> object:
    compiled = compile_model(data, name="streamed", **options)
    check_plan(compiled.plan)
    lib = Streamed(compiled)
    rng = np.random.default_rng(3)
    for _ in range(samples):
        xs = random_inputs(compiled.model, rng)
        want = run_tflm(data, xs, len(compiled.model.outputs))
        lib.stream(xs[0].tobytes(), rng)
        assert lib.lib.tinyflow_model_invoke(None) == 0
        for k, (g, w) in enumerate(zip(lib.outputs(), want)):
            np.testing.assert_array_equal(g, np.asarray(w).ravel(), err_msg=f"output {k}")
    return compiled, lib


def test_band_tables_cover_each_band_and_the_ring_holds_any_band():
    # conv 3x3 stride 2 SAME on 12 rows, then conv 3x3 stride 1: bands of 1 output row
    layers = [Layer(12, 6, 2, 0, 3, 1, 10, 8), Layer(6, 6, 1, 1, 3, 1, 8, 8)]
    sched = schedule(layers, 1)
    need, keep = band_tables(sched, 2)
    firsts = [c for c in sched.calls if c.layer == 0]
    assert len(need) == len(keep) == 6
    assert need == sorted(need) and keep == sorted(keep) and need[-1] <= 12 * 10
    assert ring_rows(sched) == max(c.r1 - c.r0 for c in firsts)
    assert all(n - k <= ring_rows(sched) * 10 for n, k in zip(need, keep))
    assert isinstance(firsts[0], Call)


@pytest.mark.firmware
@settings(max_examples=10, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(conv_stacks())
def test_random_conv_stacks_streamed_in_random_chunks_match_tflm(case):
    data, n_ops, _out_rows, band = case
    compiled, _ = check_streamed(data, 2, patches=[(0, n_ops - 1, band)], stream_input="on")
    assert compiled.stages[0].first == 0
    assert compiled.model.inputs[0] not in compiled.plan.offsets  # no whole input in the arena


@pytest.mark.firmware
def test_vww_streamed_meets_the_issue_budget_and_matches_tflm():
    whole = compile_model(VWW.read_bytes(), max_ram=28384)
    compiled, lib = check_streamed(VWW.read_bytes(), 2, max_ram=18444)
    assert compiled.plan.arena_bytes <= 18444 < whole.plan.arena_bytes
    assert compiled.stream_ring < 27648 and not whole.stream_ring  # auto: streams only when needed
    assert "TINYFLOW_MODEL_INPUT_STREAMED, tinyflow_model_input_rows" in compiled.sources["streamed.c"]


@pytest.mark.firmware
def test_entry_contract_order_restart_and_one_invoke_per_input():
    compiled, lib = check_streamed(PD.read_bytes(), 1, max_ram=16896, stream_input="on")
    x = np.random.default_rng(5).integers(-128, 128, 9216).astype(np.int8).tobytes()
    want = run_tflm(PD.read_bytes(), [np.frombuffer(x, np.int8).reshape(1, 96, 96, 1)])[0].ravel()
    assert lib.lib.tinyflow_model_invoke(None) < 0  # the last input was consumed: none staged
    assert lib.feed(0, x[:1000]) == 0
    assert lib.feed(2000, x[2000:3000]) < 0  # out of order: refused, nothing stored
    assert lib.feed(500, x[500:1000]) < 0  # resent: refused too
    assert lib.lib.tinyflow_model_invoke(None) < 0  # incomplete
    assert lib.feed(1000, x[1000:]) == 0  # the sample goes on where it was
    assert lib.lib.tinyflow_model_invoke(None) == 0
    np.testing.assert_array_equal(lib.outputs()[0], want)
    assert lib.feed(0, x[:5000]) == 0  # restarted midway, then again from 0: the first start is dropped
    assert lib.feed(0, x) == 0
    assert lib.feed(len(x), b"\0") < 0  # past the end
    assert lib.lib.tinyflow_model_invoke(None) == 0
    np.testing.assert_array_equal(lib.outputs()[0], want)


def test_modes():
    data = PD.read_bytes()
    assert compile_model(data, max_ram=16896, stream_input="off").stream_ring == 0
    assert compile_model(data, max_ram=16896, preserve_inputs=False).stream_ring == 0  # auto: met without
    with pytest.raises(UsageError, match="cannot stream"):
        compile_model(data, max_ram=16896, preserve_inputs=True, stream_input="on")
    with pytest.raises(UsageError, match="Unknown stream_input"):
        compile_model(data, max_ram=16896, stream_input="yes")
    # EEMBC harnesses invoke one input repeatedly: never streamed, so the old floor holds
    with pytest.raises(Exception, match="input alone is 27,648 bytes"):
        compile_model(VWW.read_bytes(), max_ram=18444, preserve_inputs=True)


@pytest.mark.firmware
def test_vww_streamed_every_traced_intermediate_matches_tflm():
    from tinyflow.runtimes.intermediates import compare_intermediates

    require_cc()
    compiled = compile_model(VWW.read_bytes(), name="streamed", max_ram=18444)
    x = np.random.default_rng(7).integers(-128, 128, (1, 96, 96, 3)).astype(np.int8)
    report = compare_intermediates(compiled, [x])
    assert compiled.stream_ring and report.identical and report.ops_compared > 20


def test_a_front_end_cannot_feed_a_streamed_input():
    from tinyflow.export.frontend_tables import with_frontend
    from tinyflow.frontends import default_config

    compiled = compile_model(VWW.read_bytes(), max_ram=18444)
    assert compiled.stream_ring
    with pytest.raises(UsageError, match="cannot feed a model compiled with a streamed input"):
        with_frontend(compiled, default_config("mfcc"))
    assert with_frontend(compiled, None) is compiled


def test_packages_keep_a_whole_input():
    from tinyflow.export.package import package_sources

    with pytest.raises(Exception, match="input alone is 27,648 bytes"):
        package_sources(VWW.read_bytes(), "vww", "aot", max_ram=18444)


def test_cli_compile_says_the_input_streams(tmp_path):
    from click.testing import CliRunner

    from tinyflow.cli.main import cli

    out = tmp_path / "out"
    args = ["compile", str(VWW), "-o", str(out), "--no-tflm-arena", "--max-ram", "18444"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.output.splitlines() if ln.startswith("patch by patch: ops 0-"))
    assert "the input streams row by row into a 2,592 B ring" in line
    assert "int tinyflow_model_input_rows(int index" in (out / "vww_96_int8.c").read_text()


def test_firmware_projects_stream_only_with_the_native_protocol():
    from tinyflow.export.platformio.project import plan_project

    plan = plan_project(VWW.read_bytes(), "nano33ble", "aot", max_ram=18444)
    model_c = next(t for p, t in plan.files.items() if p.startswith("lib/tinyflow_model/src/") and p.endswith(".c"))
    assert "int tinyflow_model_input_rows(" in model_c and plan.arena_bytes <= 18444
    with pytest.raises(Exception, match="input alone is 27,648 bytes"):  # the MLPerf Tiny runner writes it whole
        plan_project(VWW.read_bytes(), "nano33ble", "aot", protocol="eembc", benchmark="vww01", max_ram=18444)


def test_namespaced_models_stream_under_their_own_names():
    compiled = compile_model(VWW.read_bytes(), name="vww", namespace=True, max_ram=18444)
    header, source = compiled.sources["vww_model.h"], compiled.sources["vww.c"]
    assert "int vww_model_input_rows(int index, uint32_t offset, const uint8_t *data, uint32_t len);" in header
    assert "int vww_model_input_rows(int index" in source and "tinyflow_model_input_rows" not in source
    assert "TINYFLOW_MODEL_INPUT_STREAMED, vww_model_input_rows" in source
