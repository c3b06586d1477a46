"""The host runtimes behind one interface (tinyflow.runtimes): TFLM, LiteRT and the compiled model
give identical int8 outputs on corpus models, and each keeps the interface's contract."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import corpus_path, require_tool
from tinyflow.errors import DataError, UsageError
from tinyflow.runtimes import KINDS, Runtime, open_runtime
from tinyflow.tflite import read_model

CORPUS = ["tflm/hello_world_int8.tflite", "mlperf_tiny/kws_ref_model.tflite"]


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYFLOW_CACHE", str(tmp_path / "cache"))


def _samples(data: bytes, n: int, seed: int = 0) -> list[list[np.ndarray]]:
    m, rng = read_model(data), np.random.default_rng(seed)
    out = []
    for _ in range(n):
        tensors = [m.tensors[i] for i in m.inputs]
        out.append([rng.integers(-128, 128, size=t.shape).astype(t.dtype) for t in tensors])
    return out


@pytest.mark.firmware
@pytest.mark.parametrize("rel", CORPUS)
def test_three_runtimes_give_identical_int8_outputs(rel):
    require_tool("cc")
    data = corpus_path(rel).read_bytes()
    samples = _samples(data, 6)
    results = {}
    for kind in KINDS:
        with open_runtime(kind, data) as runtime:
            assert isinstance(runtime, Runtime) and runtime.name == kind and runtime.reference
            results[kind] = runtime.run(samples)
    want = results["tflm"]
    assert len(want) == len(samples) and want[0][0].dtype == np.int8
    for kind in ("litert", "compiled"):
        for k, (got, ref) in enumerate(zip(results[kind], want)):
            assert len(got) == len(ref)
            for g, r in zip(got, ref):
                assert g.dtype == r.dtype and g.shape == r.shape, (kind, k)
                assert np.array_equal(g, r), (kind, k)


@pytest.mark.parametrize("kind", ["tflm", "litert"])
def test_sample_forms_and_errors_are_the_same_for_every_runtime(kind):
    data = corpus_path(CORPUS[0]).read_bytes()
    x = _samples(data, 2)
    with open_runtime(kind, data) as runtime:
        bare, listed = runtime.run([s[0] for s in x]), runtime.run(x)
        assert [o[0].tolist() for o in bare] == [o[0].tolist() for o in listed]
        assert runtime.invoke(x[0])[0].tolist() == bare[0][0].tolist()
        with pytest.raises(DataError, match="is float32 but the model wants int8"):
            runtime.run([np.zeros((1, 1), np.float32)])
        with pytest.raises(DataError, match=r"Sample 1 .* has 2 values but shape \[1, 1\] needs 1"):
            runtime.run([x[0], [x[0][0], x[0][0]]])


def test_unknown_kind_is_a_usage_error():
    with pytest.raises(UsageError, match="Unknown host runtime 'onnx'"):
        open_runtime("onnx", b"")


def test_an_owned_tflm_worker_stops_on_close():
    data = corpus_path(CORPUS[0]).read_bytes()
    runtime = open_runtime("tflm", data, cached=False)
    worker = runtime._worker
    assert worker.alive and runtime.arena_used() > 0
    runtime.close()
    assert not worker.alive
