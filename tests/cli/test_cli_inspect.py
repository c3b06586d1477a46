"""CLI: inspect, export, boards (CliRunner), and that --help / inspect import no TensorFlow."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import corpus_path
from tinyflow.cli.main import cli


def _run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_inspect_json_person_detect_with_board():
    res = _run("inspect", str(corpus_path("tflm/person_detect.tflite")), "--board", "nano33ble", "--json")
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["op_counts"]["CONV_2D"] == 14 and len(d["op_names"]) == 31
    assert abs(d["arena"]["arena_bytes"] - 85_264) <= 0.05 * 85_264
    assert d["fit"]["verdict"].startswith("fits") and d["fit"]["ram"]["headroom"] > 0


def test_inspect_text_starts_with_the_verdict():
    # issue 15: the verdict and budget come first (they came last, after up to 156 lines)
    res = _run("inspect", str(corpus_path("tflm/micro_speech_quantized.tflite")), "-b", "esp32dev")
    assert res.exit_code == 0, res.output
    assert "TFLM arena: 7,584 B" in res.output
    lines = res.output.splitlines()
    assert any(line.startswith("Fit on esp32dev: fits") for line in lines[:4]) and "headroom" in lines[8]


def test_inspect_errors_exit_codes(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x10\0\0\0XXXX" + bytes(32))
    res = CliRunner().invoke(cli, ["inspect", str(bad), "--no-arena"])
    assert res.exit_code == 1 and "Error: Not a .tflite file" in res.output
    model = str(corpus_path("tflm/hello_world_int8.tflite"))
    res = CliRunner().invoke(cli, ["inspect", model, "--board", "uno"])
    assert res.exit_code == 1 and "Error: Unknown board 'uno'" in res.output and "nano33ble" in res.output
    res = CliRunner().invoke(cli, ["inspect", model, "--board", "nano33ble", "--no-arena"])
    assert res.exit_code == 2 and "--no-arena" in res.output
    res = CliRunner().invoke(cli, ["inspect", str(tmp_path / "missing.tflite")])
    assert res.exit_code == 2


def test_check_exits_1_when_the_model_does_not_fit(monkeypatch):
    from tinyflow import boards, inspection

    real = boards.load_board("nano33ble")
    tiny = dataclasses.replace(real, ram_bytes=real.reserved_ram_bytes + 10_000)  # 10 KB usable
    monkeypatch.setattr(inspection, "load_board", lambda b: tiny)
    model = str(corpus_path("tflm/person_detect.tflite"))
    res = CliRunner().invoke(cli, ["inspect", model, "-b", "nano33ble", "--check"])
    assert res.exit_code == 1
    assert "Fit on nano33ble: does not fit" in res.output
    assert "Error: Model does not fit nano33ble. RAM: needs" in res.output
    assert CliRunner().invoke(cli, ["inspect", model, "-b", "nano33ble"]).exit_code == 0


def test_export_writes_the_pair(tmp_path):
    res = _run("export", str(corpus_path("tflm/hello_world_int8.tflite")), "-o", str(tmp_path), "--name", "hello_world")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "hello_world_model_data.h").exists() and (tmp_path / "hello_world_model_data.cc").exists()
    assert "g_hello_world_model_data[2,704]" in res.output
    res = _run("export", str(corpus_path("tflm/hello_world_int8.tflite")), "-o", str(tmp_path / "j"), "--json")
    assert json.loads(res.output)["symbol"] == "g_hello_world_int8_model_data"


def test_boards_list_and_show():
    res = _run("boards", "list")
    assert res.exit_code == 0 and any(ln.startswith("nano33ble ") for ln in res.output.splitlines())
    ids = [b["id"] for b in json.loads(_run("boards", "list", "--json").output)]
    assert {"nano33ble", "esp32dev"} <= set(ids)
    d = json.loads(_run("boards", "show", "esp32dev", "--json").output)
    assert d["cpu_hz"] == 240_000_000 and d["usable_ram_bytes"] == d["ram_bytes"] - d["reserved_ram_bytes"]
    res = CliRunner().invoke(cli, ["boards", "show", "nope"])
    assert res.exit_code == 1 and "Known boards:" in res.output


_NO_TF = """
import sys
from tinyflow.cli.main import main
try:
    main({args!r})
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras"))
print("HEAVY", heavy, "CODE", code)
"""


def test_help_and_inspect_do_not_import_tensorflow(tmp_path):
    model = str(corpus_path("tflm/hello_world_int8.tflite"))
    for args in (
        ["--help"],
        ["inspect", model, "--no-arena"],
        ["inspect", model, "--json"],
        ["export", model, "-o", str(tmp_path)],
        ["boards", "list"],
    ):
        proc = subprocess.run(
            [sys.executable, "-c", _NO_TF.format(args=args)], capture_output=True, text=True, timeout=120
        )
        assert "HEAVY [] CODE 0" in proc.stdout, (args, proc.stdout[-500:], proc.stderr[-2000:])


def test_inspect_check_and_firmware_generate_agree_on_person_detect_on_esp32dev(tmp_path):
    model = str(corpus_path("tflm/person_detect.tflite"))
    res = CliRunner().invoke(cli, ["inspect", model, "-b", "esp32dev", "--check"])
    assert res.exit_code == 1, res.output
    assert "Fit on esp32dev: does not fit (with the 15% arena margin)" in res.output
    assert "arena margin 12,800 B" in res.output
    assert res.output.strip().splitlines()[-1].startswith("Error: Model does not fit esp32dev. RAM: needs 110,352 B")
    res = CliRunner().invoke(cli, ["firmware", "generate", model, "-b", "esp32dev", "-o", str(tmp_path / "fw")])
    assert res.exit_code == 1 and "Error: Model does not fit esp32dev. RAM: needs 110,352 B" in res.output


def _edge_model(kind: str) -> bytes:
    """Models at the edges of what tinyflow serves: a scalar input, BOOL I/O, no inputs, no outputs."""
    import numpy as np

    from tinyflow.tflite.writer import ModelBuilder

    mb = ModelBuilder()
    q = {"scale": 0.1, "zero_point": 0}
    if kind == "scalar":
        x, y = mb.tensor([], "int8", **q), mb.tensor([], "int8", **q)
        mb.op("RELU", [x], [y])
        return mb.build([x], [y])
    if kind == "bool":  # RESHAPE runs under both runtimes; only the BOOL I/O is out of reach
        x, s, y = mb.tensor([1, 4], "bool"), mb.tensor([2], "int32", data=[4, 1]), mb.tensor([4, 1], "bool")
        mb.op("RESHAPE", [x, s], [y], new_shape=[4, 1])
        return mb.build([x], [y])
    x, y = mb.tensor([1, 4], "int8", **q), mb.tensor([1, 4], "int8", **q)
    if kind == "no_inputs":
        c = mb.tensor([1, 4], "int8", data=np.ones((1, 4)), **q)
        mb.op("RELU", [c], [y])
        return mb.build([], [y])
    mb.op("RELU", [x], [y])
    return mb.build([x], [])  # no_outputs


EDGE_VERBS = {
    "inspect": ["inspect", "{m}"],
    "compile": ["compile", "{m}", "-o", "{out}"],
    "export": ["export", "{m}", "-o", "{out}"],
    "eval": ["eval", "{m}", "--target", "sim://tflm", "--dataset", "random:3"],
    "firmware-tflm": ["firmware", "generate", "{m}", "-b", "nano33ble", "-o", "{out}"],
    "firmware-aot": ["firmware", "generate", "{m}", "-b", "nano33ble", "-r", "aot", "-o", "{out}"],
}
# Where a tinyflow device cannot serve the model's I/O, the verbs that build or drive one refuse it.
EDGE_ERRORS = {
    "scalar": None,
    "bool": "is BOOL; the device link carries only",
    "no_inputs": "has 0 inputs",
    "no_outputs": "has 0 outputs",
}


@pytest.mark.parametrize("verb", EDGE_VERBS)
@pytest.mark.parametrize("kind", EDGE_ERRORS)
def test_scalar_bool_and_io_less_models_work_or_fail_with_one_model_error(tmp_path, kind, verb):
    path = tmp_path / f"{kind}.tflite"
    path.write_bytes(_edge_model(kind))
    res = CliRunner().invoke(cli, [a.format(m=path, out=tmp_path / "out") for a in EDGE_VERBS[verb]])
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    refused = EDGE_ERRORS[kind] is not None and verb not in ("inspect", "export")
    if refused:
        errors = [ln for ln in res.output.splitlines() if ln.startswith("Error: ")]
        assert res.exit_code == 1 and len(errors) == 1 and EDGE_ERRORS[kind] in errors[0], res.output
    else:
        assert res.exit_code == 0, res.output
