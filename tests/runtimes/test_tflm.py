"""TFLM host runtime: op support lists vs the installed build, run(), and the arena search."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import corpus_path
from tinyflow.errors import DataError, ModelError
from tinyflow.runtimes import _probe as tflm_probe
from tinyflow.runtimes import tflm
from tinyflow.tflite import read_model
from tinyflow.tflite.writer import ModelBuilder

# Smallest arena that loads and invokes each corpus model (../shared/models/README.md).
SMALLEST = {
    "hello_world_int8": 1936,
    "micro_speech_quantized": 7584,
    "keyword_scrambled_8bit": 12944,
    "person_detect": 85264,
    "kws_ref_model": 24272,
    "vww_96_int8": 103680,
    "pretrainedResnet_quant": 55984,
    "ad01_int8": 4640,
}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYFLOW_CACHE", str(tmp_path / "cache"))


def _relu_model(op: str = "RELU") -> bytes:
    mb = ModelBuilder()
    x = mb.tensor([1, 8], "int8", scale=0.1, zero_point=-2)
    y = mb.tensor([1, 8], "int8", scale=0.1, zero_point=-2)
    mb.op(op, [x], [y])
    return mb.build(inputs=[x], outputs=[y])


def test_support_lists_match_the_installed_runtime():
    import ai_edge_litert.schema_py_generated as schema

    builtins = [k for k in vars(schema.BuiltinOperator) if not k.startswith("_") and k not in ("CUSTOM", "HASHTABLE")]
    customs = [f"CUSTOM:{c}" for c in sorted(tflm.SUPPORTED_CUSTOM)] + ["CUSTOM:tinyflow_not_an_op"]
    found = tflm.probe_op_support(builtins + customs)
    assert len(found) == len(builtins) + len(customs)
    assert {n for n in builtins if found[n]} == set(tflm.SUPPORTED_BUILTINS)
    assert {n[7:] for n in customs if found[n]} == set(tflm.SUPPORTED_CUSTOM)


def test_corpus_models_are_supported(corpus_model):
    assert tflm.unsupported_ops(corpus_model) == []


def test_unsupported_op_is_named_before_anything_runs():
    data = _relu_model("RFFT2D")
    assert tflm.unsupported_ops(data) == ["RFFT2D"]
    with pytest.raises(ModelError, match="TFLite Micro cannot run op RFFT2D"):
        tflm.check_supported(data)
    with pytest.raises(ModelError, match="RFFT2D"):
        tflm.run(data, [np.zeros((1, 8), np.int8)])
    with pytest.raises(ModelError, match="RFFT2D"):
        tflm.measure_arena(data)


def test_run_computes_relu_exactly():
    x = np.arange(-8, 8, dtype=np.int8).reshape(2, 1, 8)
    out = tflm.run(_relu_model(), x)
    assert len(out) == 2 and all(len(o) == 1 for o in out)
    assert out[0][0].tolist() == [[-2, -2, -2, -2, -2, -2, -2, -1]]  # clamped at the zero point
    assert out[1][0].tolist() == [list(range(0, 8))]
    as_lists = tflm.run(_relu_model(), [[x[0]], [x[1]]])  # one-item lists, as evaluate passes them
    assert [o[0].tolist() for o in as_lists] == [o[0].tolist() for o in out]


def test_run_batch_and_list_agree_on_person_detect():
    path = corpus_path("tflm/person_detect.tflite")
    x = np.random.default_rng(0).integers(-128, 128, size=(2, 96, 96, 1)).astype(np.int8)
    as_batch, as_list = tflm.run(path, x), tflm.run(path.read_bytes(), [s.reshape(1, 96, 96, 1) for s in x])
    for a, b in zip(as_batch, as_list):
        assert a[0].shape == (1, 2) and a[0].dtype == np.int8 and np.array_equal(a[0], b[0])


@pytest.mark.parametrize(
    "sample, text",
    [
        (np.zeros((1, 8), np.float32), "is float32 but the model wants int8"),
        (np.zeros((1, 9), np.int8), "has 9 values"),
    ],
)
def test_run_rejects_bad_samples(sample, text):
    with pytest.raises(DataError, match=text):
        tflm.run(_relu_model(), [sample])


def test_search_finds_the_threshold_in_few_probes():
    for threshold, tally in [(85264, 85276), (1936, 1508), (4640, 3984), (103680, 103672), (64, 0)]:
        calls = []

        def probe(size, threshold=threshold, tally=tally):
            calls.append(size)  # noqa: B023 (called before the loop moves on)
            return size >= threshold, f"[RecordingMicroAllocator] Arena allocation total {tally} bytes"

        m = tflm._search(probe, 300_000)
        assert m.arena_bytes == (threshold + 15) // 16 * 16 and m.probes == len(calls) <= tflm.MAX_PROBES
        assert m.recorded_bytes == tally


def test_search_grows_a_too_small_start_and_gives_up_cleanly():
    m = tflm._search(lambda s: (s >= 5000, "Arena allocation total 4900 bytes"), 1000)
    assert m.arena_bytes == 5008
    with pytest.raises(ModelError, match="even with a"):
        tflm._search(lambda s: (False, "Segmentation fault"), 1000)


def test_measured_arena_is_the_smallest_that_runs(corpus_model):
    m = tflm.measure_arena(corpus_model)
    want = SMALLEST[corpus_model.stem]
    assert abs(m.arena_bytes - want) <= 0.05 * want
    model = read_model(corpus_model)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.tflite"
        path.write_bytes(model.data)
        assert tflm_probe.probe_once(path, m.arena_bytes, len(model.inputs), 60)[0]
        assert not tflm_probe.probe_once(path, m.arena_bytes - 16, len(model.inputs), 60)[0]


def test_measurement_is_cached_by_content():
    data = corpus_path("tflm/hello_world_int8.tflite").read_bytes()
    first = tflm.measure_arena(data)
    again = tflm.measure_arena(data)
    assert not first.cached and again.cached and again.arena_bytes == first.arena_bytes
    assert (tflm.arena_cache_dir() / f"{first.sha256}.json").exists()


def test_probe_server_agrees_with_fresh_processes(tmp_path):
    from tinyflow.runtimes._probe import ProbeServer, forking_available

    if not forking_available():
        pytest.skip("no os.fork on this platform: measure_arena uses one process per probe")
    path = tmp_path / "m.tflite"
    path.write_bytes(corpus_path("tflm/micro_speech_quantized.tflite").read_bytes())
    with ProbeServer(path, 1, 60) as probe:
        for size in (7584, 7568, 64, 1 << 20):  # a too-small arena crashes or errors only the grandchild
            assert probe(size)[0] == tflm_probe.probe_once(path, size, 1, 60)[0] == (size >= 7584)
        ok, text = probe(1 << 20)
        assert "Arena allocation total" in text


def test_a_model_tflm_refuses_gives_its_reason():
    mb = ModelBuilder()
    x = mb.tensor([1, 8], "int8", scale=0.1, zero_point=0)
    y = mb.tensor([1, 8], "float32")
    mb.op("LOGISTIC", [x], [y])
    data = mb.build(inputs=[x], outputs=[y])
    with pytest.raises(ModelError, match=r"INT8 != FLOAT32"):
        tflm.run(data, [np.zeros((1, 8), np.int8)])
    with pytest.raises(ModelError, match=r"even with a \d+-byte arena: .*INT8 != FLOAT32"):
        tflm.measure_arena(data)


def test_unsupported_ops_of_other_subgraphs_count_too():
    import copy

    import ai_edge_litert.schema_py_generated as schema

    from tinyflow.tflite.writer import pack

    mb = ModelBuilder()
    x = mb.tensor([1, 8], "int8", scale=0.1, zero_point=0)
    y = mb.tensor([1, 8], "int8", scale=0.1, zero_point=0)
    mb.op("RELU", [x], [y])
    model = mb.model(inputs=[x], outputs=[y])
    body = copy.deepcopy(model.subgraphs[0])
    code = schema.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode = schema.BuiltinOperator.RFFT2D, 127  # past 127: placeholder
    code.version = 1
    model.operatorCodes.append(code)
    body.operators[0].opcodeIndex = 1
    model.subgraphs.append(body)
    data = pack(model)
    assert read_model(data).op_names() == ["RELU"]
    assert tflm.unsupported_ops(data) == ["RFFT2D"]


# ---- crash isolation: TFLM never runs in this process ----------------------------------------------


def _corpus_mutant(rel: str, mutate) -> bytes:
    """A corpus model changed through the object API (tinyflow.tflite.writer.pack), e.g. made hostile."""
    import ai_edge_litert.schema_py_generated as schema

    from tinyflow.tflite.writer import pack

    model = schema.ModelT.InitFromPackedBuf(corpus_path(rel).read_bytes(), 0)
    mutate(model.subgraphs[0])
    return pack(model)


def _huge_input(sg):  # a 1 GiB input tensor: TFLM in-process segfaulted on it
    sg.tensors[sg.inputs[0]].shape = [1, 1 << 28, 4]


def _writes_a_constant(sg):  # op 1 writes into a weights tensor: TFLM segfaults loading it
    sg.operators[1].outputs = [7]  # op 2's weights (9, the model output, would be refused as a 2nd writer)


HOSTILE = {
    "huge_input": ("tflm/hello_world_int8.tflite", _huge_input),
    "writes_constant": ("tflm/micro_speech_quantized.tflite", _writes_a_constant),
}
VERBS = {
    "inspect": ["inspect", "{m}"],
    "eval": ["eval", "{m}", "--target", "sim://tflm", "--dataset", "random:2"],
    "compile": ["compile", "{m}", "-o", "{out}"],
    "profile": ["profile", "{m}"],
}
# Runs the CLI and reports its exit status and the peak RSS of it and its children (KiB).
_MEASURED = r"""
import resource, subprocess, sys
proc = subprocess.run([sys.executable, "-m", "tinyflow.cli.main", *sys.argv[1:]], capture_output=True, text=True,
                      timeout=600)
print(proc.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.stdout.write(proc.stdout + proc.stderr)
"""


@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_models_are_one_error_line_without_crashing_the_cli(tmp_path, case, verb):
    import subprocess
    import sys

    path = tmp_path / f"{case}.tflite"
    path.write_bytes(_corpus_mutant(*HOSTILE[case]))
    args = [a.format(m=path, out=tmp_path / "out") for a in VERBS[verb]]
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED, *args], capture_output=True, text=True, timeout=900, cwd=tmp_path
    )
    head, _, output = proc.stdout.partition("\n")
    code, rss_kib = map(int, head.split())
    errors = [ln for ln in output.splitlines() if ln.startswith("Error: ")]
    assert code == 1, output[-2000:]  # not -11: the CLI process was not killed by a signal
    assert len(errors) == 1 and "Traceback" not in output, output[-2000:]
    assert rss_kib < 2_000_000, rss_kib


def test_a_crash_in_tflm_names_the_signal():
    data = _corpus_mutant("tflm/micro_speech_quantized.tflite", _writes_a_constant)
    with pytest.raises(ModelError, match=r"TFLite Micro crashed with signal 11 \(SIGSEGV\)"):
        tflm.run(data, [np.zeros((1, 49, 40, 1), np.int8)])


def test_a_worker_that_dies_is_one_model_error_naming_the_signal_and_run_starts_a_new_one():
    import os
    import signal

    data, x = _relu_model(), np.zeros((1, 8), np.int8)
    tflm.run(data, [x])
    worker, _ = tflm._worker(data)
    os.kill(worker.proc.pid, signal.SIGSEGV)  # as TFLM crashing on a hostile model would
    worker.proc.wait(timeout=30)
    with pytest.raises(ModelError, match=r"TFLite Micro crashed with signal 11 \(SIGSEGV\) while invoking"):
        worker.invoke([x])
    assert tflm.run(data, [x])[0][0].tolist() == [[0] * 8]  # a fresh worker
    assert tflm._worker(data)[0] is not worker


def test_a_worker_that_hangs_is_stopped_at_its_deadline():
    import os
    import signal
    import time

    from tinyflow.runtimes._worker import TflmWorker

    with TflmWorker(_relu_model(), 1 << 16, 8, 1, invoke_timeout=1.0) as worker:
        os.kill(worker.proc.pid, signal.SIGSTOP)  # as a model stuck in an endless WHILE would look
        start = time.monotonic()
        with pytest.raises(ModelError, match=r"took more than 1 s invoking the model; the worker was stopped"):
            worker.invoke([np.zeros((1, 8), np.int8)])
        assert time.monotonic() - start < 10 and not worker.alive


def test_sim_tflm_runs_tflm_outside_this_process():
    import os

    from tinyflow.targets.machines import tflm as sim_tflm

    port = sim_tflm.open("board=nano33ble", model=corpus_path("tflm/hello_world_int8.tflite"))
    worker = port.runtime._runtime._worker  # the sim board's TflmDevice owns its worker child
    assert worker.alive and worker.proc.pid != os.getpid()
    port.close()
    assert not worker.alive
