"""`tinyflow demo` end to end with its default settings: issue 2's bar on accuracy and size."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

pytestmark = [pytest.mark.tf, pytest.mark.slow]


def test_demo_meets_issue_2(tf, tmp_path):
    from tinyflow.cli.main import cli
    from tinyflow.export.c_array import parse_c_array

    out = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "int8 (TFLM)" in result.output and "TFLM arena" in result.output
    report = json.loads((out / "report.json").read_text())
    q = report["quantize"]
    flt, int8 = q["float_metrics"]["accuracy"], q["tflm_metrics"]["accuracy"]
    assert int8 >= 0.90 and abs(flt - int8) <= 0.02, (flt, int8)
    s, u = report["prune"]["structured"], report["prune"]["unstructured"]
    assert s["int8_bytes_after"] < 0.7 * s["int8_bytes_before"]
    assert s["arena_after"] < s["arena_before"]
    assert u["int8_bytes_after"] == u["int8_bytes_before"]  # sparsity alone does not shrink the file
    assert all(abs(l["sparsity"] - 0.5) < 0.01 for l in u["layers"])
    assert "Only structured pruning shrinks" in s["note"]
    assert report["inspect"]["verdict"].startswith("fits") and report["inspect"]["arena_bytes"] == s["arena_after"]
    int8_bytes = (out / "model_int8.tflite").read_bytes()
    cc = next(p for p in report["export"]["files"] if p.endswith(".cc"))
    assert parse_c_array(open(cc).read()) == int8_bytes
    assert sum(report["seconds"].values()) < 180
