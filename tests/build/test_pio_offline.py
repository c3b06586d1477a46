"""Offline builds: tinyflow names what PlatformIO would download (platform, toolchain, SCons,
libraries) within a second, for the board env and `native`, with hints that work as printed."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from tinyflow.build import pio_offline
from tinyflow.build import platformio as pio
from tinyflow.errors import ToolchainError
from tinyflow.export.platformio import generate_project

ROOT = Path(__file__).resolve().parents[2]
BARE_PIO = re.compile(r"`pio\s")  # a command that only works with PlatformIO's folder on PATH


@pytest.fixture(scope="module")
def aot_project(tmp_path_factory):
    from conftest import corpus_path

    out = tmp_path_factory.mktemp("fw") / "hw"
    generate_project(corpus_path("tflm/hello_world_int8.tflite"), "esp32s3", "aot", out)
    return out


@pytest.fixture
def offline(monkeypatch):
    """No host answers, and PlatformIO must never be started (it would retry for a minute)."""
    monkeypatch.setattr(pio, "reachable", lambda host, *a, **k: False)

    def no_pio(*a, **k):
        raise AssertionError("PlatformIO was started although a download it needs is unreachable")

    monkeypatch.setattr(pio, "run_pio", no_pio)


def _fails_fast(project, env) -> ToolchainError:
    start = time.monotonic()
    with pytest.raises(ToolchainError) as info:
        pio.build_project(project, env)
    assert time.monotonic() - start < 5
    assert not BARE_PIO.search(str(info.value)), str(info.value)
    return info.value


def test_native_env_offline_names_what_is_missing_and_a_command_that_works(aot_project, offline, monkeypatch):
    monkeypatch.setattr(pio, "platform_installed", lambda spec: False)
    err = _fails_fast(aot_project, "native")
    assert "env native offline: PlatformIO platform 'native@1.2.1' is not installed" in err.message
    assert f"{pio.pio_hint('pkg', 'install', '-d', aot_project, '-e', 'native')}" in err.hint
    assert "--target sim://host" in err.hint  # what works offline now


def test_an_installed_platform_without_scons_still_fails_fast(aot_project, offline, monkeypatch):
    # `pio pkg install -g -p native` (the old hint) installs the platform but not SCons: the
    # next `pio run` offline would retry the registry for a minute.
    monkeypatch.setattr(pio, "platform_installed", lambda spec: True)
    monkeypatch.setattr(pio_offline, "platform_packages_missing", lambda *a, **k: [])
    monkeypatch.setattr(
        pio_offline,
        "core_packages_missing",
        lambda: [("PlatformIO's build tool SCons (tool-scons) is not installed", pio.REGISTRY_HOST)],
    )
    err = _fails_fast(aot_project, "native")
    assert "SCons (tool-scons) is not installed" in err.message


def test_an_installed_platform_without_its_toolchain_fails_fast(aot_project, offline, monkeypatch):
    monkeypatch.setattr(pio, "platform_installed", lambda spec: True)
    monkeypatch.setattr(pio_offline, "core_packages_missing", lambda: [])
    monkeypatch.setattr(
        pio_offline,
        "platform_packages_missing",
        lambda project, env, platform, targets=(): [
            (
                f"package 'toolchain-xtensa-esp32s3' of platform {platform!r} is not installed (env {env})",
                pio.REGISTRY_HOST,
            )
        ],
    )
    err = _fails_fast(aot_project, None)
    assert "package 'toolchain-xtensa-esp32s3' of platform 'espressif32@6.13.0'" in err.message
    assert "-e esp32s3" in err.hint


def test_nothing_missing_asks_no_host(aot_project, monkeypatch):
    monkeypatch.setattr(pio, "platform_installed", lambda spec: True)
    monkeypatch.setattr(pio_offline, "core_packages_missing", lambda: [])
    monkeypatch.setattr(pio_offline, "platform_packages_missing", lambda *a, **k: [])

    def no_network(host, *a, **k):
        raise AssertionError(f"asked {host} although nothing is missing")

    monkeypatch.setattr(pio, "reachable", no_network)
    pio.check_can_build(aot_project, pio.project_env(aot_project, "native"))


def test_libraries_come_from_their_own_hosts(tmp_path):
    missing = pio_offline.libraries_missing(
        tmp_path,
        "env",
        [
            "Arduino_TensorFlowLite=https://github.com/tensorflow/tflite-micro-arduino-examples.git#7948b85",
            "bblanchon/ArduinoJson@^6.21",
        ],
    )
    assert [(w.split()[1], h) for w, h in missing] == [
        ("Arduino_TensorFlowLite", "github.com"),
        ("ArduinoJson", pio.REGISTRY_HOST),
    ]
    (tmp_path / ".pio" / "libdeps" / "env" / "ArduinoJson").mkdir(parents=True)
    assert len(pio_offline.libraries_missing(tmp_path, "env", ["bblanchon/ArduinoJson@^6.21"])) == 0


def test_the_pio_hint_runs_as_printed():
    proc = subprocess.run(
        pio.pio_hint("--version"),
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
    )  # tinyflow's environment is not on PATH
    assert proc.returncode == 0 and "PlatformIO Core" in proc.stdout, proc.stderr


def test_size_and_failure_hints_name_a_command_that_works(tmp_path):
    with pytest.raises(ToolchainError) as info:
        pio.parse_size("Compiling .pio/build/x/src/main.cpp.o\n", "x", tmp_path)
    assert pio.pio_hint("run", "-d", tmp_path, "-e", "x", "-t", "checkprogsize", "-v") in info.value.hint
    assert not BARE_PIO.search(str(info.value))


@pytest.mark.parametrize("doc", ["firmware/templates/README.md", "docs/boards-guide.md", "docs/tflm-library.md"])
def test_docs_give_platformio_commands_that_work_as_printed(doc):
    text = (ROOT / doc).read_text()
    assert not BARE_PIO.search(text) and "$$ pio " not in text and "\n$ pio " not in text


def test_generated_readme_says_how_to_build_offline(aot_project):
    text = (aot_project / "README.md").read_text()
    assert "pkg install -d . -e esp32s3" in text and "pkg install -d . -e native" in text
    assert "HTTPClientError" in text and not BARE_PIO.search(text)
