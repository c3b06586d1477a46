"""TFLM host runtime: op support lists vs the installed build, run(), and the arena search."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import corpus_path
from tinyflow import tflm, tflm_probe
from tinyflow.errors import DataError, ModelError
from tinyflow.tflite import read_model
from tinyflow.tflite.writer import ModelBuilder

# Smallest arena that loads and invokes each corpus model (../shared/models/README.md).
SMALLEST = {
    "hello_world_int8": 1936, "micro_speech_quantized": 7584, "keyword_scrambled_8bit": 12944,
    "person_detect": 85264, "kws_ref_model": 24272, "vww_96_int8": 103680,
    "pretrainedResnet_quant": 55984, "ad01_int8": 4640,
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


@pytest.mark.parametrize("sample, text", [
    (np.zeros((1, 8), np.float32), "is float32 but the model wants int8"),
    (np.zeros((1, 9), np.int8), "has 9 values"),
])
def test_run_rejects_bad_samples(sample, text):
    with pytest.raises(DataError, match=text):
        tflm.run(_relu_model(), [sample])


def test_search_finds_the_threshold_in_few_probes():
    for threshold, tally in [(85264, 85276), (1936, 1508), (4640, 3984), (103680, 103672), (64, 0)]:
        calls = []

        def probe(size, threshold=threshold, tally=tally):
            calls.append(size)
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
    from tinyflow.tflm_probe import ProbeServer, forking_available

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
