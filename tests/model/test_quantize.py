"""int8 post-training quantization: op set, I/O types, per-channel weights, report."""

from __future__ import annotations

import numpy as np
import pytest
import trained_models

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def digits_splits():
    return trained_models.digits_splits()


@pytest.fixture(scope="module")
def trained_cnn(tf):
    return trained_models.trained_cnn()


@pytest.fixture(scope="module")
def quantized(tf, trained_cnn, digits_splits):
    from tinyflow.data import representative
    from tinyflow.model.quantize import quantize

    tr, _, te = digits_splits
    return quantize(trained_cnn, representative(tr, 100), te)


def test_int8_model_is_batch1_full_integer_per_channel(quantized):
    from tinyflow.tflite import read_model

    data, _ = quantized
    m = read_model(data)
    names = m.op_names()
    assert not {"SHAPE", "STRIDED_SLICE", "PACK", "QUANTIZE", "DEQUANTIZE"} & set(names)
    assert names.count("CONV_2D") == 2 and names[-1] == "SOFTMAX"
    (inp,), (out,) = [m.tensors[i] for i in m.inputs], [m.tensors[i] for i in m.outputs]
    assert inp.type_name == out.type_name == "INT8" and inp.shape == (1, 8, 8, 1)
    conv = next(op for op in m.ops if op.name == "CONV_2D")
    w = m.tensors[conv.inputs[1]]
    assert w.type_name == "INT8" and len(w.scale) == w.shape[0] == 16  # one scale per filter


def test_report_float_vs_litert_vs_tflm(quantized, digits_splits):
    _, report = quantized
    f, lite, micro = (r["accuracy"] for r in (report.float_metrics, report.litert_metrics, report.tflm_metrics))
    assert f > 0.85 and abs(f - micro) < 0.03 and abs(lite - micro) < 0.02
    assert report.samples == len(digits_splits[2]) and report.int8_bytes < report.float_bytes / 2
    ops = [e.op for e in report.layers]
    assert ops == ["CONV_2D", "CONV_2D", "MAX_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "FULLY_CONNECTED", "SOFTMAX"]
    assert all(15 < e.sqnr_db < 200 for e in report.layers)
    assert report.worst_layer.drop_db == max(e.drop_db for e in report.layers)
    assert report.layers[1].drop_db == pytest.approx(report.layers[0].sqnr_db - report.layers[1].sqnr_db)
    assert 0.5 < report.litert_tflm_identical <= 1 and 0 <= report.litert_tflm_max_steps <= 8
    assert "<- worst" in str(report) and report.to_dict()["worst_layer"]["op"] == report.worst_layer.op


def test_layer_errors_point_at_a_damaged_layer(quantized, trained_cnn, digits_splits):
    # Damage one weight tensor of the int8 model: the SQNR of that layer must become the worst.
    from tinyflow.model.quantize import layer_errors, to_tflite
    from tinyflow.tflite import read_model

    data, _ = quantized
    m = read_model(data)
    fc = [op for op in m.ops if op.name == "FULLY_CONNECTED"][0]
    w = m.tensors[fc.inputs[1]]
    raw = bytearray(data)
    start = bytes(data).find(w.data.tobytes())
    assert start > 0
    noise = np.random.default_rng(0).integers(-128, 128, size=w.size, dtype=np.int8)
    raw[start : start + w.size] = noise.tobytes()
    errs = layer_errors(to_tflite(trained_cnn), bytes(raw), digits_splits[2].x[:8])
    worst = max(errs, key=lambda e: e.drop_db)
    assert worst.op == "FULLY_CONNECTED" and worst.index == fc.index and worst.sqnr_db < 10
