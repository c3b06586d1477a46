"""`./run setup` checks capabilities (link with the sanitizer runtimes, cross-link with newlib, the
QEMU machine), not only that commands exist, installs what is missing when root, names it otherwise.

The tools are fakes on PATH that log their calls, so the test runs the real script on any machine:
the fake clang links -fsanitize=fuzzer only once the fake apt-get "installed" libclang-rt-14-dev.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FAKE_TOOL = """#!/bin/sh
echo "$(basename "$0") $*" >> "{log}"
case "$(basename "$0")" in
  id) [ "$1" = -u ] && {{ echo "{uid}"; exit 0; }}; exec /usr/bin/id "$@" ;;
  clang)
    [ "$1" = -dumpversion ] && {{ echo 14.0.6; exit 0; }}
    case "$*" in *-fsanitize=fuzzer*) [ -f "{state}/rt-installed" ] || {{
      echo "/usr/bin/ld: cannot find libclang_rt.fuzzer-x86_64.a: No such file or directory" >&2; exit 1; }} ;; esac ;;
  apt-cache)
    [ "$1" = show ] && [ "$2" = libclang-rt-14-dev ] && exit 0
    [ "$1" = depends ] && echo "  Depends: clang-14"
    [ "$1" = show ] && exit 100 ;;
  apt-get) case "$*" in *libclang-rt-14-dev*) touch "{state}/rt-installed" ;; esac ;;
  qemu-system-arm) case "$*" in
      "-machine help") echo "mps2-an386           ARM MPS2 with AN386 FPGA image for Cortex-M4" ;;
      "-help") echo "-plugin [file=]<file>[,<argname>=<argvalue>]" ;;
      "-object help") echo "  memory-backend-file" ;; esac ;;
esac
exit 0
"""
TOOLS = ["id", "cc", "c++", "clang", "arm-none-eabi-gcc", "qemu-system-arm", "apt-get", "apt-cache"]


@pytest.fixture
def checkout(tmp_path):
    """A copy of `run` whose Python set-up is already done, so only the system set-up runs."""
    if shutil.which("python3") is None:
        pytest.skip("python3 is missing")
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("run", "pyproject.toml"):
        shutil.copy2(ROOT / name, root / name)
    (root / ".venv").mkdir()
    digest = hashlib.sha256((root / "pyproject.toml").read_bytes() + (root / "run").read_bytes()).hexdigest()
    (root / ".venv" / ".tinyflow-setup").write_text(digest + "\n")
    return root


def run_setup(root: Path, tmp_path: Path, uid: int) -> tuple[subprocess.CompletedProcess, list[str]]:
    """`./run setup` with the fake tools first on PATH; returns the result and the logged tool calls."""
    fakes, state, log = tmp_path / "fakes", tmp_path / "state", tmp_path / "calls.log"
    fakes.mkdir(exist_ok=True)
    state.mkdir(exist_ok=True)
    log.write_text("")
    for tool in TOOLS:
        path = fakes / tool
        path.write_text(FAKE_TOOL.format(log=log, state=state, uid=uid))
        path.chmod(0o755)
    env = {"PATH": f"{fakes}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C"}
    proc = subprocess.run(["bash", str(root / "run"), "setup"], capture_output=True, text=True, env=env, timeout=60)
    return proc, log.read_text().splitlines()


def test_root_installs_the_sanitizer_runtime_that_clang_only_recommends(checkout, tmp_path):
    proc, calls = run_setup(checkout, tmp_path, uid=0)
    assert proc.returncode == 0, proc.stderr
    assert "installing system packages for: fuzzer" in proc.stderr
    installs = [c for c in calls if c.startswith("apt-get install")]
    assert len(installs) == 1 and "libclang-rt-14-dev" in installs[0] and "--no-install-recommends" in installs[0]
    assert sum(c.startswith("apt-get update") for c in calls) == 1
    # Nothing else was missing, so nothing else was installed.
    assert "gcc-arm-none-eabi" not in installs[0] and "qemu-system-arm" not in installs[0]


def test_a_second_run_skips_the_checks_by_stamp(checkout, tmp_path):
    run_setup(checkout, tmp_path, uid=0)
    proc, calls = run_setup(checkout, tmp_path, uid=0)
    assert proc.returncode == 0, proc.stderr
    assert not [c for c in calls if not c.startswith("id ")], calls


def test_not_root_names_the_missing_capability_and_its_package(checkout, tmp_path):
    proc, calls = run_setup(checkout, tmp_path, uid=1000)
    assert proc.returncode == 0, proc.stderr
    assert "clang -fsanitize=fuzzer,address,undefined" in proc.stderr
    assert "sudo apt-get install --no-install-recommends clang libclang-rt-14-dev" in proc.stderr
    assert not [c for c in calls if c.startswith("apt-get")]
    assert not (checkout / ".venv" / ".tinyflow-system").exists()  # checked again next time


def test_the_cross_compiler_is_checked_by_linking_with_newlib(checkout, tmp_path):
    run_setup(checkout, tmp_path, uid=1000)
    calls = (tmp_path / "calls.log").read_text()
    assert "--specs=nano.specs" in calls and "-machine help" in calls
