"""`tinyflow quantize --qat --epochs N` end to end on a tiny model, and its usage errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tinyflow.cli.main import cli

pytestmark = pytest.mark.tf


def _run(args):
    return CliRunner().invoke(cli, args)


def test_quantize_qat_end_to_end(tf, tmp_path):
    from tinyflow.tflite import read_model

    m, q = str(tmp_path / "m.keras"), str(tmp_path / "m.tflite")
    r = _run(["train", "-d", "digits", "-m", "mlp", "--epochs", "3", "-o", m])
    assert r.exit_code == 0, r.output
    r = _run(["quantize", m, "-d", "digits", "--qat", "--epochs", "2", "-o", q, "--calibration", "50", "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout[r.stdout.index("{") :])
    assert rep["qat_epochs"] == 2 and rep["int8_bytes"] == len(open(q, "rb").read())
    micro, lite = rep["tflm_metrics"]["accuracy"], rep["litert_metrics"]["accuracy"]
    assert micro > rep["float_metrics"]["accuracy"] - 0.05 and abs(micro - lite) < 0.03
    model = read_model(open(q, "rb").read())
    assert model.tensors[model.inputs[0]].type_name == "INT8" and "QUANTIZE" not in model.op_names()
    r = _run(["quantize", m, "-d", "digits", "--qat", "--epochs", "1", "-o", q])
    assert r.exit_code == 0 and "quantization-aware training (1 epochs)" in r.stdout


def test_quantize_qat_errors(tf, tmp_path):
    import keras

    r = _run(["quantize", "--help"])
    assert r.exit_code == 0 and "--qat" in r.output
    m = tmp_path / "m.keras"
    inp = keras.Input((8, 8, 1))
    x = keras.layers.LayerNormalization(name="norm_a")(keras.layers.Flatten()(inp))
    keras.Model(inp, keras.layers.Dense(10, activation="softmax")(x)).save(m)
    r = _run(["quantize", str(m), "-d", "digits", "--epochs", "2", "-o", str(tmp_path / "q.tflite")])
    assert r.exit_code == 2 and "--epochs is the length of quantization-aware training" in r.output
    r = _run(["quantize", str(m), "-d", "digits", "--qat", "-o", str(tmp_path / "q.tflite")])
    lines = [ln for ln in r.output.splitlines() if ln.startswith("Error:")]
    assert r.exit_code == 1 and len(lines) == 1 and "layer 'norm_a' (LayerNormalization)" in lines[0]
    assert "Traceback" not in r.output
