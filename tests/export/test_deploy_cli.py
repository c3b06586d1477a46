"""`tinyflow deploy`: one implementation with `tinyflow export`, the registry's options, one-line
errors, and hostile model and file names that stay out of every generated file's code."""

from __future__ import annotations

import json
import shutil
import zipfile

import pytest
from click.testing import CliRunner
from hostile.checks import PAYLOAD_TOKEN, payload_problems

from conftest import corpus_path
from tinyflow.cli.main import cli

HELLO = "tflm/hello_world_int8.tflite"
PACKAGES = ("cmake", "arduino-library", "esp-idf", "zephyr")
# A --name and a file name that try to end a comment, a string, a line, a YAML value or a CMake
# argument and start code of their own.
HOSTILE_NAME = 'x") */ "\n#include "/etc/passwd"\ntinyflow_pwned_line()\n]] ${tinyflow_pwned} $<1:x>'
HOSTILE_FILE = 'm "\\\ntinyflow_pwned_line()\n# ]=]\n.tflite'  # no "/": it is a file name


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _files(folder) -> dict:
    return {
        p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file() and ".tinyflow" not in p.parts
    }


def _error_line(res) -> str:
    lines = [ln for ln in res.output.splitlines() if ln.startswith("Error: ")]
    assert len(lines) == 1 and "Traceback" not in res.output, res.output
    return lines[0]


@pytest.mark.parametrize("fmt", PACKAGES)
def test_deploy_writes_each_package_and_reports_it_as_json(tmp_path, fmt):
    res = _run(
        "deploy", corpus_path(HELLO), "--format", fmt, "--runtime", "aot", "-n", "hello", "-o", tmp_path / "o", "--json"
    )
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert (report["format"], report["name"], report["runtime"], report["api"]) == (fmt, "hello", "aot", "hello_model")
    assert all((tmp_path / "o").joinpath(p).exists() for p in report["files"])


def test_export_is_deploy_with_a_default_format(tmp_path):
    a = _run("deploy", corpus_path(HELLO), "-f", "cmake", "-n", "m", "-o", tmp_path / "a")
    b = _run("export", corpus_path(HELLO), "-f", "cmake", "-n", "m", "-o", tmp_path / "b")
    assert a.exit_code == b.exit_code == 0
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    res = _run("deploy", corpus_path(HELLO), "-o", tmp_path / "c")
    assert res.exit_code == 2 and "Missing option '--format'" in res.output


def test_options_a_format_does_not_take_are_refused_in_one_line(tmp_path):
    res = _run("deploy", corpus_path(HELLO), "-f", "c-array", "--runtime", "aot", "-o", tmp_path / "o")
    assert res.exit_code == 2
    assert _error_line(res).startswith("Error: Format c-array does not take 'runtime'. It takes: --name, --force")
    res = _run("deploy", corpus_path(HELLO), "-f", "cmake", "--runtime", "npu", "-o", tmp_path / "o")
    assert res.exit_code == 2 and "'npu' is not one of" in res.output


def test_deploy_refuses_to_overwrite_the_users_files(tmp_path):
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "CMakeLists.txt").write_text("# mine\n")
    res = _run("deploy", corpus_path(HELLO), "-f", "cmake", "-o", tmp_path / "o")
    assert res.exit_code == 2, res.output
    assert _error_line(res).startswith("Error: ")
    assert (tmp_path / "o" / "CMakeLists.txt").read_text() == "# mine\n"


@pytest.mark.parametrize("runtime", ["aot", "tflm"])
@pytest.mark.parametrize("fmt", PACKAGES)
def test_hostile_names_stay_out_of_the_generated_code(tmp_path, fmt, runtime):
    model = tmp_path / HOSTILE_FILE
    shutil.copy(corpus_path(HELLO), model)
    out = tmp_path / "o"
    res = _run("deploy", model, "-f", fmt, "--runtime", runtime, "-n", HOSTILE_NAME, "-o", out)
    assert res.exit_code == 0, res.output
    for archive in out.glob("*.zip"):
        with zipfile.ZipFile(archive) as z:
            assert all(".." not in n and not n.startswith("/") for n in z.namelist())
            z.extractall(tmp_path / "x")
    assert payload_problems(out) == [] and payload_problems(tmp_path / "x") == []
    for path in [*out.rglob("*"), *(tmp_path / "x").rglob("*")]:
        if not path.is_file() or path.suffix in (".c", ".cc", ".cpp", ".h", ".json"):
            continue  # C is checked by payload_problems (comments and strings blanked)
        for line in path.read_text(errors="replace").splitlines():
            # Build files (CMake, YAML, Kconfig, properties, .ino): the names appear only in the
            # one-line banner comment; everywhere else the sanitised identifier stands in.
            raw = any(bit in line for bit in ("/etc/passwd", "${tinyflow_pwned", "$<1:x>", ']]", "]=]'))
            if raw or PAYLOAD_TOKEN.search(line):
                assert line.startswith(("#", "//")), f"{path.name}: {line}"
