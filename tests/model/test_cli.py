"""CLI verbs train, prune, quantize: exit codes, JSON reports and the error lines."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from tinyflow.cli.main import cli

pytestmark = pytest.mark.tf


def _run(args):
    return CliRunner().invoke(cli, args)


def test_train_prune_quantize_chain(tf, tmp_path):
    m, p, q = (str(tmp_path / n) for n in ("m.keras", "p.keras", "m.tflite"))
    r = _run(["train", "-d", "digits", "-m", "mlp", "--epochs", "3", "-o", m, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout[r.stdout.index("{") :])["epochs_run"] == 3
    r = _run(["prune", m, "-d", "digits", "--ratio", "0.5", "--epochs", "1", "-o", p, "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout[r.stdout.index("{") :])
    assert rep["params_after"] < rep["params_before"] and rep["int8_bytes_after"] < rep["int8_bytes_before"]
    assert 0 < rep["arena_after"] <= rep["arena_before"]
    r = _run(["quantize", p, "-d", "digits", "-o", q, "--calibration", "50", "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout[r.stdout.index("{") :])
    assert rep["int8_bytes"] == len(open(q, "rb").read()) and rep["worst_layer"]["op"]


def test_cli_errors(tf, tmp_path):
    r = _run(["train", "-d", "mnist"])
    assert r.exit_code == 2 and "Error: Unknown dataset 'mnist'" in r.output
    bad = tmp_path / "nan.npz"
    x = np.zeros((20, 4), np.float32)
    x[3, 1] = np.nan
    np.savez(bad, x=x, y=np.arange(20) % 2)
    r = _run(["train", "-d", str(bad), "-m", "mlp", "-o", str(tmp_path / "m.keras")])
    assert r.exit_code == 1 and "NaN" in r.output and "Error:" in r.output
    junk = tmp_path / "j.keras"
    junk.write_bytes(b"junk")
    r = _run(["quantize", str(junk), "-d", "digits"])
    assert r.exit_code == 1 and "Error: Cannot load" in r.output
    r = _run(["prune", str(junk), "-d", "digits"])
    assert r.exit_code == 2 and "Nothing to prune" in r.output
    for verb in ("train", "prune", "quantize", "demo"):
        assert _run([verb, "--help"]).exit_code == 0
