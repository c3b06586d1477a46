"""The README's commands run as written (issue 15): in order, in a fresh folder, with a quiet stderr."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from conftest import require_tool

ROOT = Path(__file__).resolve().parents[1]
TINYFLOW = ROOT / ".venv" / "bin" / "tinyflow"
# What TensorFlow, absl, oneDNN and the TFLite converter print when left alone (tinyflow/model/noise.py).
NOISE = re.compile(r"absl|oneDNN|^[IWE]\d{4} |port\.cc|cpu_feature_guard|fully_quantize|tensorflow/|TF-TRT", re.M)
# Verbs that need something a test machine does not have; the README says so next to them.
NEEDS_A_BOARD = (("firmware", "flash"),)


def readme_commands(text: str) -> list[list[str]]:
    """The `./run tinyflow ...` lines of the README's ```bash blocks, as argv after `tinyflow`, in order.

    Comments are dropped (the README shows follow-up commands there), and so are commands that
    need a real board.
    """
    commands = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, re.S | re.M):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words[:2] != ["./run", "tinyflow"]:
                continue
            if tuple(words[2:4]) not in NEEDS_A_BOARD:
                commands.append(words[2:])
    return commands


def test_readme_commands_are_found_and_comments_are_not_commands():
    commands = readme_commands((ROOT / "README.md").read_text())
    verbs = [c[0] for c in commands]
    assert verbs[:3] == ["train", "prune", "quantize"]
    assert "eval" in verbs and "profile" in verbs and "firmware" in verbs
    assert not any("/dev/ttyACM0" in c for cmd in commands for c in cmd)  # the comment's command


def test_run_help_prints_only_help():
    for word in ("help", "--help"):
        res = subprocess.run(["bash", str(ROOT / "run"), word], capture_output=True, text=True, timeout=60, cwd="/tmp")
        assert res.returncode == 0 and res.stderr == ""
        lines = res.stdout.splitlines()
        assert lines[0].startswith("tinyflow's one entry point") and len(lines) == 8
        assert all(not line.startswith("run:") for line in lines)


@pytest.mark.tf
@pytest.mark.slow
@pytest.mark.firmware
@pytest.mark.arm
@pytest.mark.qemu
def test_readme_quick_start_runs_as_written(tf, tmp_path):
    for tool in ("cc", "arm-none-eabi-gcc", "qemu-system-arm"):
        require_tool(tool)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "TINYFLOW_VERBOSE"))}
    for argv in readme_commands((ROOT / "README.md").read_text()):
        res = subprocess.run([str(TINYFLOW), *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        command = shlex.join(["tinyflow", *argv])
        assert res.returncode == 0, f"{command}\n{res.stderr}"
        assert not NOISE.search(res.stderr), f"{command} printed TensorFlow's lines:\n{res.stderr}"
    assert (tmp_path / "model.tflite").stat().st_size > 1000
    assert (tmp_path / "fw" / "platformio.ini").exists()
