"""PlatformIO is the optional extra tinyflow[boards] (issue 15): without it, one line says how to get it."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from tinyflow.cli.main import cli
from tinyflow.errors import ToolchainError

ROOT = Path(__file__).resolve().parents[2]
INSTALL = 'pip install "tinyflow[boards]"'


@pytest.fixture
def no_platformio(monkeypatch):
    """Make `import platformio` fail as in an environment installed without the extra."""
    for name in [m for m in sys.modules if m == "platformio" or m.startswith("platformio.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "platformio", None)  # None in sys.modules: ImportError on import


@pytest.mark.parametrize("verb", ["build", "size", "flash"])
def test_firmware_verbs_say_how_to_install_platformio_in_one_line(verb, no_platformio, tmp_path):
    (tmp_path / "platformio.ini").write_text("[env:nano33ble]\nplatform = nordicnrf52\nboard = nano33ble\n")
    res = CliRunner().invoke(cli, ["firmware", verb, str(tmp_path)])
    assert res.exit_code == 1, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: PlatformIO is not installed"), lines
    assert INSTALL in lines[0]


def test_the_ini_lint_says_how_to_install_platformio(no_platformio, tmp_path):
    from tinyflow.build.platformio import lint_ini

    with pytest.raises(ToolchainError, match="not installed") as err:
        lint_ini(tmp_path / "platformio.ini")
    assert INSTALL in err.value.hint


def test_platformio_is_an_extra_and_the_run_script_installs_it():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.lower().startswith("platformio")]
    assert [d for d in project["optional-dependencies"]["boards"] if d.startswith("platformio")]
    installed = re.search(r"pip install -q -e \"\$root\[([a-z,]+)\]\"", (ROOT / "run").read_text())
    assert installed and "boards" in installed.group(1).split(",")


def test_the_run_script_installs_every_extra():
    """Each optional extra is something a test exercises, so the set-up installs all of them."""
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    installed = re.search(r"pip install -q -e \"\$root\[([a-z,]+)\]\"", (ROOT / "run").read_text())
    assert installed and set(installed.group(1).split(",")) == extras


def test_only_parity_critical_packages_are_pinned_exactly():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = {d.split("==")[0] for d in project["dependencies"] if "==" in d}
    # tflite-micro: its kernels are the bit-exact reference; ai-edge-litert: its generated schema module
    assert pinned == {"tflite-micro", "ai-edge-litert"}
