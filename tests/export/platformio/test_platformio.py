"""PlatformIO runner: fail fast without the platform, size parsing, port detection and checks."""

import errno
import time
from types import SimpleNamespace

import pytest
import serial

from tinyflow.build import platformio as pio
from tinyflow.errors import LinkError, ToolchainError, UsageError
from tinyflow.export.platformio import generate_project

SIZE_OUTPUT = """Linking .pio/build/nano33ble/firmware.elf
Checking size .pio/build/nano33ble/firmware.elf
Advanced Memory Usage is available via "PlatformIO Home > Project Inspect"
RAM:   [=         ]  11.9% (used 31140 bytes from 262144 bytes)
Flash: [==        ]  18.6% (used 183172 bytes from 983040 bytes)
Building .pio/build/nano33ble/firmware.bin
"""


def test_parse_size_reads_platformios_usage_lines():
    r = pio.parse_size(SIZE_OUTPUT, "nano33ble")
    assert (r.flash_used, r.flash_max, r.ram_used, r.ram_max) == (183172, 983040, 31140, 262144)
    assert r.fits


def test_parse_size_without_usage_lines_is_a_toolchain_error():
    with pytest.raises(ToolchainError, match="no RAM/Flash usage"):
        pio.parse_size("Compiling .pio/build/x/src/main.cpp.o\n", "x")


def test_size_over_the_board_is_a_board_error_with_numbers():
    r = pio.SizeReport(env="disco", flash_used=10, flash_max=100, ram_used=120_000, ram_max=98_304, board="disco")
    with pytest.raises(Exception, match=r"RAM uses 120,000 B of 98,304 B"):
        r.raise_if_not_fit()


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    from conftest import corpus_path

    out = tmp_path_factory.mktemp("fw") / "hw"
    generate_project(corpus_path("tflm/hello_world_int8.tflite"), "esp32s3", "tflm", out, measured_arena_bytes=1936)
    return out


def test_build_fails_fast_when_the_platform_is_missing_and_offline(project, monkeypatch):
    monkeypatch.setattr(pio, "platform_installed", lambda spec: False)
    monkeypatch.setattr(pio, "reachable", lambda host, *a, **k: False)
    start = time.monotonic()
    with pytest.raises(ToolchainError, match="platform 'espressif32@6.13.0' .* not installed .* cannot be reached"):
        pio.build_project(project)
    assert time.monotonic() - start < 5


def test_build_fails_fast_when_the_tflm_library_cannot_be_downloaded(project, monkeypatch):
    monkeypatch.setattr(pio, "platform_installed", lambda spec: True)
    monkeypatch.setattr(pio, "reachable", lambda host, *a, **k: False)
    with pytest.raises(ToolchainError, match="Library Arduino_TensorFlowLite .* not downloaded yet"):
        pio.build_project(project)


def test_project_env_defaults_to_the_board_env(project):
    env = pio.project_env(project)
    assert env.name == "esp32s3" and env.platform == "espressif32@6.13.0"
    assert pio.project_env(project, "native").platform == "native@1.2.1"
    with pytest.raises(UsageError, match="no env 'nope'"):
        pio.project_env(project, "nope")


def _port(device, vid, pid):
    return SimpleNamespace(device=device, vid=vid, pid=pid)


def test_detect_port_by_usb_id():
    ports = [
        _port("/dev/ttyS0", None, None),
        _port("/dev/ttyACM0", 0x2341, 0x805A),
        _port("/dev/ttyUSB0", 0x10C4, 0xEA60),
    ]
    assert pio.detect_port([(0x2341, 0x805A)], ports) == "/dev/ttyACM0"


def test_detect_port_none_connected_lists_what_is_there():
    with pytest.raises(LinkError, match=r"No board with USB id 2e8a:00c0 .*ttyUSB0 \(10c4:ea60\)"):
        pio.detect_port([(0x2E8A, 0x00C0)], [_port("/dev/ttyUSB0", 0x10C4, 0xEA60)])


def test_detect_port_ambiguous_asks_for_port():
    ports = [_port("/dev/ttyUSB0", 0x10C4, 0xEA60), _port("/dev/ttyUSB1", 0x10C4, 0xEA60)]
    with pytest.raises(UsageError, match="--port"):
        pio.detect_port([(0x10C4, 0xEA60)], ports)


def _raising(exc):
    def opener(port):
        raise exc

    return opener


def test_check_port_permission_denied_hints_dialout():
    exc = serial.SerialException(errno.EACCES, "could not open port /dev/ttyACM0: [Errno 13] Permission denied")
    with pytest.raises(LinkError, match="Permission denied") as info:
        pio.check_port("/dev/ttyACM0", _raising(exc))
    assert "dialout" in info.value.hint


def test_check_port_busy_names_the_cause():
    exc = serial.SerialException(errno.EBUSY, "Could not exclusively lock port /dev/ttyACM0: [Errno 11]")
    with pytest.raises(LinkError, match="busy"):
        pio.check_port("/dev/ttyACM0", _raising(exc))


def test_check_port_missing_device():
    with pytest.raises(LinkError, match="Cannot open /dev/ttyNOPE"):
        pio.check_port("/dev/ttyNOPE")


NATIVE_OUTPUT = """Processing native (platform: native@1.2.1)
Linking .pio/build/native/program
========================= [SUCCESS] Took 41.20 seconds =========================
"""


def test_a_successful_native_build_is_a_success(project, monkeypatch):
    calls = []
    monkeypatch.setattr(pio, "check_can_build", lambda *a, **k: None)
    monkeypatch.setattr(pio, "run_pio", lambda proj, args, timeout: calls.append(args) or NATIVE_OUTPUT)
    report = pio.build_project(project, "native")
    assert calls == [["run", "-e", "native"]]
    assert report.fits and report.program.endswith(".pio/build/native/program")
    assert "program for this computer" in str(report) and report.to_dict()["program"] == report.program
    report.raise_if_not_fit()
    with pytest.raises(UsageError, match="env native .* no flash/RAM budget|Env native .* no flash/RAM budget"):
        pio.size_project(project, "native")
