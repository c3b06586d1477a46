"""open_device: URL options checked before any build, passed to the build, the built firmware to the target."""

from __future__ import annotations

import pytest

import tinyflow.build.firmware
import tinyflow.targets
from conftest import corpus_path
from tinyflow.errors import BoardError, UsageError
from tinyflow.workflows import device

HELLO = "tflm/hello_world_int8.tflite"


@pytest.fixture
def opened(monkeypatch):
    """What open_device handed the target layer (no device is opened)."""
    seen = {}
    monkeypatch.setattr(tinyflow.targets, "open_target", lambda url, **kw: seen.update(url=url, **kw) or "port")
    return seen


@pytest.fixture
def no_build(monkeypatch):
    def never(*_a, **_k):
        raise AssertionError("a firmware was built")

    monkeypatch.setattr(device, "build_host_firmware", never)
    monkeypatch.setattr(device, "build_qemu_firmware", never)


@pytest.mark.parametrize(
    "url, match",
    [
        ("sim://host?board=nope", "Unknown board 'nope'"),
        ("sim://host?rx=10", "must be a byte count between 64 and 65535"),
        ("sim://host?bord=x", "does not take the option 'bord'"),
        ("sim://qemu-m4?kernels=fast", "kernels=fast"),
        ("sim://nope", "Unknown simulated target"),
    ],
)
def test_options_are_checked_before_anything_is_built(url, match, no_build, opened):
    with pytest.raises(UsageError, match=match):
        device.open_device(url, model=corpus_path(HELLO).read_bytes())
    assert opened == {}


def test_host_options_reach_the_build_and_the_firmware_reaches_the_target(monkeypatch, opened):
    built = {}

    def fake_build(model, options, *, board=None):
        built.update(model=model, options=options, board=board)
        return "FIRMWARE"

    monkeypatch.setattr(device, "build_host_firmware", fake_build)
    assert device.open_device("sim://host?sanitize=1&rx=1024&board=esp32dev", model=b"M", timeout=4.0) == "port"
    opts = built["options"]
    assert (opts.sanitize, opts.fake, opts.rx_bytes, built["board"], built["model"]) == (
        True,
        False,
        1024,
        "esp32dev",
        b"M",
    )
    assert opened["firmware"] == "FIRMWARE" and opened["timeout"] == 4.0 and opened["model"] == b"M"


def test_targets_that_run_the_model_themselves_get_no_firmware(no_build, opened):
    device.open_device("sim://tflm?board=esp32dev", model=b"M")
    assert opened["firmware"] is None and opened["model"] == b"M"
    device.open_device("loop://", baud=9600)
    assert opened["firmware"] is None and opened["baud"] == 9600


@pytest.mark.parametrize("query, variant", [("", True), ("&kernels=portable", False)])
def test_qemu_builds_get_the_kernels_of_the_machine_core_and_its_tick_rate(monkeypatch, opened, query, variant):
    from tinyflow.targets.machines import qemu_m4

    seen = {}
    monkeypatch.setattr(tinyflow.build.firmware, "build_mps2", lambda compiled, budget, **kw: seen.update(kw) or "ELF")
    device.open_device(f"sim://qemu-m4?board=disco_l475vg_iot01a{query}", model=corpus_path(HELLO))
    names = {f"{p.parent.name}/{p.name}" for p in seen["kernels"]}
    assert ("cortex_m4/fully_connected.c" in names) is variant
    assert ("kernels/fully_connected.c" in names) is not variant
    assert seen["ticks_per_second"] == qemu_m4.ticks_per_second_for(80e6)
    assert opened["firmware"] == "ELF"


def test_a_board_of_another_core_is_refused_before_compiling(monkeypatch, opened):
    import tinyflow.compile

    monkeypatch.setattr(tinyflow.compile, "compile_model", lambda *a, **k: pytest.fail("compiled"))
    with pytest.raises(BoardError, match="rpipico has a cortex-m0plus core"):
        device.open_device("sim://qemu-m4?board=rpipico", model=corpus_path(HELLO))
    assert opened == {}


def test_serve_takes_only_sim_host(no_build):
    from tinyflow.workflows.serve import serve

    for url in ("sim://tflm", "/dev/ttyACM0"):
        with pytest.raises(UsageError, match="Only sim://host can be served"):
            serve(None, url)
