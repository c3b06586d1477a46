"""The pytest plugin: where its settings come from, its failures, and that it loads nothing heavy."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from conftest import corpus_path, require_tool
from tinyflow.testing import BudgetExceeded, Gate

HELLO = "tflm/hello_world_int8.tflite"
PROBE = """
TINYFLOW_BOARD = "rpipico"

def test_settings(tinyflow_target, tinyflow_board, request):
    print("SETTINGS", tinyflow_target, tinyflow_board)

def test_model(tinyflow_model):
    print("MODEL", tinyflow_model)
"""


def _run(tmp_path: Path, *args: str, ini: str = "") -> subprocess.CompletedProcess:
    (tmp_path / "test_probe.py").write_text(PROBE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n" + ini)
    installed = any(e.value == "tinyflow.testing.plugin" for e in entry_points(group="pytest11"))
    plugin = [] if installed else ["-p", "tinyflow.testing.plugin"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "test_probe.py", "-s", "-p", "no:cacheprovider", *plugin, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": ""},
    )


def test_defaults_module_constants_ini_and_command_line_in_that_order(tmp_path):
    out = _run(tmp_path, ini="tinyflow_target = sim://tflm\n").stdout
    assert "SETTINGS sim://tflm rpipico" in out  # ini target, module board
    out = _run(tmp_path, "--tinyflow-board", "nano33ble", "--tinyflow-target", "rfc2217://h:1").stdout
    assert "SETTINGS rfc2217://h:1 nano33ble" in out
    assert "SETTINGS sim://host rpipico" in _run(tmp_path).stdout  # the default target


def test_a_missing_model_fails_with_what_to_pass(tmp_path):
    result = _run(tmp_path, "-k", "model")
    assert result.returncode == 1
    assert "No model to check: pass --tinyflow-model PATH or set TINYFLOW_MODEL" in result.stdout
    result = _run(tmp_path, "-k", "model", "--tinyflow-model", "nowhere.tflite")
    assert f"Model {tmp_path / 'nowhere.tflite'} does not exist" in result.stdout


def test_relative_model_paths_start_at_the_rootdir(tmp_path):
    (tmp_path / "m.tflite").write_bytes(b"x")
    result = _run(tmp_path, "-k", "model", "--tinyflow-model", "m.tflite")
    assert result.returncode == 0 and f"MODEL {tmp_path / 'm.tflite'}" in result.stdout


def test_loading_the_plugin_imports_nothing_heavy():
    code = "import sys, tinyflow.testing.plugin; print(sorted(m for m in ('numpy', 'tensorflow', 'serial') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert out.strip() == "[]"


def test_flash_and_ram_gates_report_the_numbers():
    gate = Gate(corpus_path(HELLO), board="nano33ble")
    needed = gate.assert_ram()  # within the board's usable RAM
    assert needed == gate.inspect().fit.ram_needed
    with pytest.raises(
        BudgetExceeded, match=r"Flash budget exceeded: hello_world_int8.tflite needs [\d,]+ B, limit 100 B"
    ):
        gate.assert_flash(max_bytes=100)
    with pytest.raises(BudgetExceeded, match="No board to check the model against"):
        Gate(corpus_path(HELLO)).assert_ram()


def test_agreement_and_accuracy_gates():
    gate = Gate(corpus_path(HELLO), target="sim://tflm")
    assert gate.assert_agreement("random:10") == 1.0
    with pytest.raises(BudgetExceeded, match=r"Accuracy on random:10 via sim://tflm: not measured, limit >= 50.0%"):
        gate.assert_accuracy("random:10", min_accuracy=0.5)  # a regression model has no accuracy


@pytest.mark.qemu
def test_instructions_and_latency_on_the_emulated_core():
    require_tool("qemu-system-arm")
    require_tool("arm-none-eabi-gcc")
    gate = Gate(corpus_path(HELLO), board="nano33ble")
    count = gate.assert_instructions(10**9)
    assert count > 0 and gate.profile().target.startswith("sim://qemu-m4")
    with pytest.raises(
        BudgetExceeded, match=rf"runs {count:,} instructions per inference .* limit {count - 1:,} \(over by 1\)"
    ):
        gate.assert_instructions(count - 1)
    ms = gate.assert_latency(1e6)
    with pytest.raises(BudgetExceeded, match=r"takes an estimated [\d.]+ ms per inference .* at 64 MHz, limit"):
        gate.assert_latency(ms / 2)
