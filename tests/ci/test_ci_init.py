"""`tinyflow ci init` writes a user project whose budget tests pass within budget and fail, readably, over it."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import corpus_path, require_tool
from tinyflow.boards import load_board
from tinyflow.cli.main import cli

HELLO = "tflm/hello_world_int8.tflite"
TEST_FILE = "tests/test_model_budgets.py"


def _init(project: Path, *args: str):
    return CliRunner().invoke(cli, ["ci", "init", "-o", str(project), *args])


def _project(tmp_path: Path, *args: str) -> Path:
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    shutil.copy(corpus_path(HELLO), project / "models" / "hello.tflite")
    result = _init(project, "--model", "models/hello.tflite", "--board", "nano33ble", *args)
    assert result.exit_code == 0, result.output
    return project


def _pytest(project: Path, *args: str) -> subprocess.CompletedProcess:
    """pytest on the user's project in a child, as their CI runs it (the plugin through its entry point)."""
    installed = any(e.value == "tinyflow.testing.plugin" for e in entry_points(group="pytest11"))
    plugin = [] if installed else ["-p", "tinyflow.testing.plugin"]
    env = {**os.environ, "PYTHONPATH": ""}  # not this repository's tests/ (its conftest.py)
    return subprocess.run(
        [sys.executable, "-m", "pytest", TEST_FILE, "-p", "no:cacheprovider", "-rA", *plugin, *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def _set(project: Path, name: str, value: str) -> None:
    path = project / TEST_FILE
    lines = [f"{name} = {value}" if line.startswith(f"{name} = ") else line for line in path.read_text().splitlines()]
    path.write_text("\n".join(lines) + "\n")


def test_init_writes_the_workflows_and_a_test_file_with_the_boards_budgets(tmp_path):
    project = _project(tmp_path)
    text = (project / TEST_FILE).read_text()
    board = load_board("nano33ble")
    assert f"RAM_LIMIT_BYTES = {board.usable_ram_bytes}" in text
    assert f"FLASH_LIMIT_BYTES = {board.usable_flash_bytes}" in text
    assert "EMULATED_CORE = 'sim://qemu-m4?board=nano33ble'" in text
    workflow = (project / ".github/workflows/tinyflow.yml").read_text()
    assert "python -m pytest tests/test_model_budgets.py" in workflow
    assert "model-budgets:" in (project / ".gitlab-ci.tinyflow.yml").read_text()


@pytest.mark.firmware
def test_generated_project_passes_within_budget_and_fails_readably_over_it(tmp_path):
    require_tool("cc")
    project = _project(tmp_path)
    ok = _pytest(project)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "PASSED tests/test_model_budgets.py::test_ram" in ok.stdout
    assert "PASSED tests/test_model_budgets.py::test_agreement_with_reference" in ok.stdout

    _set(project, "RAM_LIMIT_BYTES", "1000")  # below what the model needs
    over = _pytest(project)
    assert over.returncode == 1, over.stdout + over.stderr
    assert "FAILED tests/test_model_budgets.py::test_ram" in over.stdout
    assert "E       tinyflow.testing.budgets.BudgetExceeded: RAM budget exceeded: hello.tflite needs" in over.stdout
    assert "limit 1,000 B (over by" in over.stdout
    assert "PASSED tests/test_model_budgets.py::test_flash" in over.stdout  # only the broken budget fails


def test_a_board_too_small_fails_the_fit_and_ram_gates(tmp_path):
    """vww_96 needs 124 KiB of RAM under TFLM; nucleo_f446re leaves 112 KiB usable."""
    project = tmp_path / "p"
    vww = corpus_path("mlperf_tiny/vww_96_int8.tflite")  # absolute: used in place
    assert _init(project, "--model", str(vww), "--board", "nucleo_f446re").exit_code == 0
    result = _pytest(project, "-k", "fits or ram or flash")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED tests/test_model_budgets.py::test_fits_the_board" in result.stdout
    assert "BudgetExceeded: vww_96_int8.tflite does not fit nucleo_f446re: RAM: needs 127,424 B" in result.stdout
    assert "BudgetExceeded: RAM budget exceeded: vww_96_int8.tflite needs 127,424 B, limit 114,688 B" in result.stdout
    assert "PASSED tests/test_model_budgets.py::test_flash" in result.stdout


def test_an_untrusted_model_name_stays_one_python_string(tmp_path):
    name = "models/x'\"\n__import__('os').system('id')#\u00e9.tflite"
    project = tmp_path / "p"
    result = _init(project, "--model", name, "--board", "nano33ble")
    assert result.exit_code == 0, result.output
    tree = ast.parse((project / TEST_FILE).read_text())
    values = {
        n.targets[0].id: ast.literal_eval(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign) and len(n.targets) == 1
    }
    assert values["TINYFLOW_MODEL"] == name
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "system"]
    assert calls == []


def test_an_unknown_board_is_one_error_line(tmp_path):
    result = _init(tmp_path / "p", "--model", "m.tflite", "--board", "no-such-board")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "no-such-board" in lines[0], lines
    assert not (tmp_path / "p").exists()


def test_accuracy_needs_both_options(tmp_path):
    result = _init(tmp_path / "p", "--model", "m.tflite", "--board", "nano33ble", "--min-accuracy", "0.9")
    assert result.exit_code == 2
    assert "--accuracy-dataset and --min-accuracy go together" in result.output


def test_an_edited_test_file_is_not_overwritten_without_force(tmp_path):
    project = tmp_path / "p"
    assert _init(project, "--model", "m.tflite", "--board", "nano33ble").exit_code == 0
    _set(project, "RAM_LIMIT_BYTES", "1000")
    again = _init(project, "--model", "m.tflite", "--board", "nano33ble")
    assert again.exit_code == 2 and "tests/test_model_budgets.py" in again.output
    assert "RAM_LIMIT_BYTES = 1000" in (project / TEST_FILE).read_text()
    assert _init(project, "--model", "m.tflite", "--board", "nano33ble", "--force").exit_code == 0
    assert "RAM_LIMIT_BYTES = 1000" not in (project / TEST_FILE).read_text()


def test_the_generated_gates_are_set_from_the_options(tmp_path):
    project = tmp_path / "p"
    result = _init(
        project,
        *("--model", "m.tflite", "--board", "rpipico", "--accuracy-dataset", "digits"),
        *("--min-accuracy", "0.8", "--max-latency-ms", "12.5", "--target", "rfc2217://ci-box:2217"),
    )
    assert result.exit_code == 0, result.output
    text = (project / TEST_FILE).read_text()
    for line in (
        "TINYFLOW_TARGET = 'rfc2217://ci-box:2217'",
        "ACCURACY_DATASET = 'digits'",
        "MIN_ACCURACY = 0.8",
        "MAX_LATENCY_MS = 12.5",
        f"RAM_LIMIT_BYTES = {load_board('rpipico').usable_ram_bytes}",
    ):
        assert line in text
