"""The output-format registry: its table matches its writers, `tinyflow export --format` uses it, and
`tinyflow compile` / `tinyflow firmware generate` write exactly what the same format writes."""

from __future__ import annotations

import importlib
import inspect
import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from conftest import corpus_path
from tinyflow.cli.main import cli
from tinyflow.errors import UsageError
from tinyflow.export import FORMATS, ExportFormat, Option, export_model, get_format

HELLO = "tflm/hello_world_int8.tflite"


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _error_line(res) -> str:
    lines = [ln for ln in res.output.splitlines() if ln.startswith("Error: ")]
    assert len(lines) == 1 and "Traceback" not in res.output, res.output
    return lines[0]


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", list(FORMATS))
def test_each_format_names_a_writer_that_takes_its_options(name):
    fmt = FORMATS[name]
    module, function = fmt.writer.split(":")
    params = inspect.signature(getattr(importlib.import_module(module), function)).parameters
    assert list(params)[:2] in (["model", "out_dir"],), list(params)
    assert {o.name for o in fmt.options} <= set(params), fmt.name
    assert fmt.description.endswith(".") and "\n" not in fmt.description


def test_the_three_formats_of_today_are_registered_and_c_array_is_the_default():
    assert {"c-array", "c", "platformio"} <= set(FORMATS)
    assert "--format" in _run("export", "--help").output and "[default: c-array]" in _run("export", "--help").output
    help_text = " ".join(_run("export", "--help").output.split())
    assert all(name in help_text for name in FORMATS)


def test_an_unknown_format_is_refused_with_one_line_listing_the_formats(tmp_path):
    res = _run("export", corpus_path(HELLO), "--format", "zip", "-o", tmp_path / "o")
    assert res.exit_code == 2
    assert _error_line(res) == f"Error: Unknown export format 'zip'. Use one of: {', '.join(FORMATS)}."
    assert not (tmp_path / "o").exists()
    with pytest.raises(UsageError, match="Unknown export format"):
        get_format("zip")


def test_an_option_the_format_does_not_take_is_refused(tmp_path):
    res = _run("export", corpus_path(HELLO), "--board", "nano33ble", "-o", tmp_path / "o")
    assert res.exit_code == 2
    assert _error_line(res).startswith("Error: Format c-array does not take 'board'. It takes: --name, --force")
    assert not (tmp_path / "o").exists()


def test_a_required_option_is_asked_for(tmp_path):
    res = _run("export", corpus_path(HELLO), "--format", "platformio", "-o", tmp_path / "o")
    assert res.exit_code == 2
    assert _error_line(res) == "Error: Format platformio needs --board. Add --board to the command."


def test_export_default_writes_the_c_array(tmp_path):
    res = _run("export", corpus_path(HELLO), "-o", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["symbol"] == "g_hello_world_int8_model_data"


def test_export_format_c_writes_what_tinyflow_compile_writes(tmp_path):
    model = corpus_path(HELLO)
    a = _run("export", model, "--format", "c", "--no-tflm-arena", "-o", tmp_path / "a", "--json")
    b = _run("compile", model, "--no-tflm-arena", "-o", tmp_path / "b", "--json")
    assert a.exit_code == b.exit_code == 0, a.output + b.output
    assert _files(tmp_path / "a").keys() == _files(tmp_path / "b").keys()
    assert {k: v for k, v in _files(tmp_path / "a").items() if ".tinyflow" not in k} == {
        k: v for k, v in _files(tmp_path / "b").items() if ".tinyflow" not in k
    }
    assert json.loads(a.output)["memory"]["activation_bytes"] == json.loads(b.output)["memory"]["activation_bytes"]


def test_export_format_platformio_writes_what_firmware_generate_writes(tmp_path):
    model = corpus_path(HELLO)
    a = _run("export", model, "-f", "platformio", "--board", "nano33ble", "--runtime", "aot", "-o", tmp_path / "a")
    b = _run("firmware", "generate", model, "-b", "nano33ble", "-r", "aot", "-o", tmp_path / "b")
    assert a.exit_code == b.exit_code == 0, a.output + b.output
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert "lib/tinyflow_model/src/kernels/cortex_m4/fully_connected.inc" in _files(tmp_path / "a")


def test_a_new_format_is_one_writer_and_one_table_entry(tmp_path, monkeypatch):
    entry = ExportFormat(
        "echo", "The model bytes as they are.", (Option("suffix", "File suffix."),), f"{__name__}:_echo"
    )
    monkeypatch.setitem(FORMATS, "echo", entry)
    report = export_model(corpus_path(HELLO), "echo", tmp_path, suffix=".bin")
    assert report.read_bytes() == corpus_path(HELLO).read_bytes()
    with pytest.raises(UsageError, match="does not take 'board'"):
        export_model(corpus_path(HELLO), "echo", tmp_path, board="nano33ble")


def _echo(model, out_dir, *, suffix=".tflite"):
    path = out_dir / f"model{suffix}"
    path.write_bytes(open(model, "rb").read())
    return path


# -- the c format picks kernel variants through tinyflow.compile.kernels -----------------------------


def test_c_format_without_a_board_ships_the_portable_kernels(tmp_path):
    report = export_model(corpus_path(HELLO), "c", tmp_path, tflm_arena=False)
    kernels = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "kernels").rglob("*") if p.is_file())
    assert kernels == ["kernels/fully_connected.c"]
    assert report.written[0].name == "hello_world_int8.c"


def test_c_format_for_a_cortex_m4_board_ships_the_variant_behind_the_compilers_guard(tmp_path):
    export_model(corpus_path(HELLO), "c", tmp_path, board="nano33ble", tflm_arena=False)
    k = tmp_path / "kernels"
    assert (k / "portable/fully_connected.inc").is_file() and (k / "cortex_m4/fully_connected.inc").is_file()
    dispatcher = (k / "fully_connected.c").read_text()
    assert "__ARM_FEATURE_DSP" in dispatcher and '#include "cortex_m4/fully_connected.inc"' in dispatcher
    export_model(corpus_path(HELLO), "c", tmp_path / "m0", board="rpipico", tflm_arena=False)
    assert not (tmp_path / "m0" / "kernels" / "cortex_m4").exists()  # Cortex-M0+: no DSP variant


@pytest.mark.arm
def test_the_cortex_m4_build_of_the_c_folder_compiles_the_variant(tmp_path):
    if shutil.which("arm-none-eabi-gcc") is None:
        from conftest import missing

        missing("tool 'arm-none-eabi-gcc'")
    export_model(corpus_path(HELLO), "c", tmp_path, board="nano33ble", tflm_arena=False)
    flags = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", f"-I{tmp_path / 'include'}", "-E"]
    m4 = subprocess.run(
        ["arm-none-eabi-gcc", *flags, str(tmp_path / "kernels/fully_connected.c")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    m0 = subprocess.run(
        [
            "arm-none-eabi-gcc",
            *flags[1:],
            "-mcpu=cortex-m0plus",
            "-mfloat-abi=soft",
            str(tmp_path / "kernels/fully_connected.c"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "cortex_m4/fully_connected.inc" in m4 and "cortex_m4/fully_connected.inc" not in m0
