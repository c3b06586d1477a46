"""Analysis: MACs per op by formula, parameters, weight bytes, and the whole inspect report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import corpus_path
from tinyflow.analysis import analyze
from tinyflow.errors import ModelError, UsageError
from tinyflow.inspection import inspect_model
from tinyflow.tflite.writer import ModelBuilder

# MLPerf Tiny reference MACs (per the benchmark's paper: KWS 2.7M, VWW 7.5M, IC 12.5M, AD 0.26M).
CORPUS_MACS = {
    "kws_ref_model": 2_664_768,
    "vww_96_int8": 7_491_968,
    "pretrainedResnet_quant": 12_534_400,
    "ad01_int8": 264_192,
    "hello_world_int8": 288,
    "person_detect": 7_160_192,
}


def _chain():
    """conv 3x3 (8->16) stride 1 SAME on 1x10x10x8, depthwise 3x3, avgpool 2x2, add, mean, reshape, fc 16->4."""
    rng = np.random.default_rng(0)
    mb = ModelBuilder()
    q = dict(scale=0.05, zero_point=0)
    x = mb.tensor([1, 10, 10, 8], "int8", **q)
    w = mb.tensor(
        [16, 3, 3, 8], "int8", scale=[0.01] * 16, zero_point=[0] * 16, data=rng.integers(-5, 5, (16, 3, 3, 8))
    )
    b = mb.tensor([16], "int32", scale=[0.0005] * 16, zero_point=[0] * 16, data=np.zeros(16))
    c = mb.tensor([1, 10, 10, 16], "int8", **q)
    mb.op("CONV_2D", [x, w, b], [c], padding="SAME")
    dw = mb.tensor(
        [1, 3, 3, 16],
        "int8",
        scale=[0.01] * 16,
        zero_point=[0] * 16,
        quantized_dimension=3,
        data=rng.integers(-5, 5, (1, 3, 3, 16)),
    )
    d = mb.tensor([1, 10, 10, 16], "int8", **q)
    mb.op("DEPTHWISE_CONV_2D", [c, dw, -1], [d], padding="SAME")
    p = mb.tensor([1, 5, 5, 16], "int8", **q)
    mb.op("AVERAGE_POOL_2D", [d], [p], filter_width=2, filter_height=2, stride_w=2, stride_h=2, padding="VALID")
    a = mb.tensor([1, 5, 5, 16], "int8", **q)
    mb.op("ADD", [p, p], [a])
    axis = mb.tensor([2], "int32", data=[1, 2])
    m = mb.tensor([1, 16], "int8", **q)
    mb.op("MEAN", [a, axis], [m], keep_dims=False)
    fw = mb.tensor([4, 16], "int8", scale=[0.01] * 4, zero_point=[0] * 4, data=rng.integers(-5, 5, (4, 16)))
    y = mb.tensor([1, 4], "int8", **q)
    mb.op("FULLY_CONNECTED", [m, fw, -1], [y])
    return mb.build(inputs=[x], outputs=[y])


def test_macs_by_formula():
    a = analyze(_chain())
    macs = {o.name: o.macs for o in a.ops}
    assert macs == {
        "CONV_2D": 10 * 10 * 16 * 3 * 3 * 8,
        "DEPTHWISE_CONV_2D": 10 * 10 * 16 * 3 * 3,
        "AVERAGE_POOL_2D": 5 * 5 * 16 * 2 * 2,
        "ADD": 5 * 5 * 16,
        "MEAN": 5 * 5 * 16,
        "FULLY_CONNECTED": 4 * 16,
    }
    assert a.macs == sum(macs.values())
    # The MEAN axis tensor is a constant but not a parameter; the int32 bias is.
    assert a.params == 16 * 3 * 3 * 8 + 16 + 3 * 3 * 16 + 4 * 16
    assert a.weight_bytes == 16 * 3 * 3 * 8 + 16 * 4 + 3 * 3 * 16 + 4 * 16
    assert a.constant_bytes == a.weight_bytes + 8
    assert a.op_counts == {
        "CONV_2D": 1,
        "DEPTHWISE_CONV_2D": 1,
        "AVERAGE_POOL_2D": 1,
        "ADD": 1,
        "MEAN": 1,
        "FULLY_CONNECTED": 1,
    }


def test_corpus_model_analyzes_and_serializes(corpus_model):
    a = analyze(corpus_model)
    d = a.to_dict()
    json.dumps(d)
    assert sum(d["op_counts"].values()) == len(d["op_names"]) == len(d["ops"])
    assert a.params > 0 and a.weight_bytes <= a.constant_bytes <= len(a.model.data)
    if corpus_model.stem in CORPUS_MACS:
        assert a.macs == CORPUS_MACS[corpus_model.stem]


def test_hello_world_parameters():
    assert analyze(corpus_path("tflm/hello_world_int8.tflite")).params == 16 + 16 + 16 * 16 + 16 + 16 + 1


def test_inspect_person_detect_json_is_exact():
    r = inspect_model(corpus_path("tflm/person_detect.tflite"), board="nano33ble")
    d = r.to_dict()
    assert d["op_names"] == (
        ["DEPTHWISE_CONV_2D"]
        + ["DEPTHWISE_CONV_2D", "CONV_2D"] * 13
        + ["AVERAGE_POOL_2D", "CONV_2D", "RESHAPE", "SOFTMAX"]
    )
    assert d["op_counts"] == {"DEPTHWISE_CONV_2D": 14, "CONV_2D": 14, "AVERAGE_POOL_2D": 1, "RESHAPE": 1, "SOFTMAX": 1}
    assert abs(d["arena"]["arena_bytes"] - 85_264) <= 0.05 * 85_264
    fit = d["fit"]
    assert fit["board"] == "nano33ble" and fit["fits"] and fit["verdict"].startswith("fits")
    assert fit["ram"]["parts"]["arena"] == d["arena"]["arena_bytes"]
    assert fit["ram"]["headroom"] == fit["ram"]["usable"] - fit["ram"]["needed"] > 0
    assert fit["flash"]["parts"]["model"] == 300_568
    assert d["inputs"][0]["shape"] == [1, 96, 96, 1] and d["inputs"][0]["dtype"] == "int8"
    text = str(r)
    assert "Fit on nano33ble: fits" in text and "85,264 B" in text


def test_inspect_refuses_unsupported_ops_but_reports_them_without_arena():
    mb = ModelBuilder()
    x = mb.tensor([1, 8], "int8", scale=0.1, zero_point=0)
    y = mb.tensor([1, 8], "int8", scale=0.1, zero_point=0)
    mb.op("RFFT2D", [x], [y])
    data = mb.build(inputs=[x], outputs=[y])
    with pytest.raises(ModelError, match="cannot run op RFFT2D"):
        inspect_model(data)
    r = inspect_model(data, arena=False)
    assert r.unsupported_ops == ["RFFT2D"] and "NOT supported: RFFT2D" in str(r)


def test_inspect_usage_errors():
    path = corpus_path("tflm/hello_world_int8.tflite")
    with pytest.raises(UsageError, match="Unknown runtime"):
        inspect_model(path, runtime="npu")
    with pytest.raises(UsageError, match="--no-arena"):
        inspect_model(path, board="nano33ble", arena=False)


def test_inspect_aot_runtime_uses_the_compiler_report():
    r = inspect_model(corpus_path("tflm/hello_world_int8.tflite"), runtime="aot")
    assert isinstance(r.aot_memory["ram_bytes"], int) and r.aot_memory["ram_bytes"] > 0


def test_aot_ram_is_the_planned_activations_never_the_tflm_arena(monkeypatch):
    import tinyflow.export.compiled_c
    from tinyflow import inspection

    class Rep:
        def to_dict(self):
            return {"activation_bytes": 1234, "tflm_arena_bytes": 9999, "weights_bytes": 5000}

    monkeypatch.setitem(vars(tinyflow.export.compiled_c), "measure_memory", lambda data, **_: Rep())
    assert inspection._aot_memory(b"", measure_tflm=False)["ram_bytes"] == 1234


def test_aot_ram_is_the_measured_total_with_kernel_scratch(monkeypatch):
    """With the Cortex-M4 static RAM measured, inspect's aot RAM (and its board fit) is that total:
    the arena plus the kernels' scratch, the same figure `tinyflow compile` reports."""
    import tinyflow.export.compiled_c
    from tinyflow import inspection

    class Rep:
        def to_dict(self):
            return {"activation_bytes": 1234, "static_ram_bytes": 2514, "scratch_bytes": 1280, "weights_bytes": 5}

    monkeypatch.setitem(vars(tinyflow.export.compiled_c), "measure_memory", lambda data, **_: Rep())
    assert inspection._aot_memory(b"", measure_tflm=False)["ram_bytes"] == 2514
