"""Every emulated Cortex-M core (sim://qemu-m0, -m3, -m4, -m7, -m33, -m55): options and boards,
the ports' tick sources measured against -icount, and the corpus bit-exact with TFLite Micro with
deterministic instruction counts on each core."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import CORPUS, corpus_path, require_tool
from tinyflow.build import arm
from tinyflow.errors import BoardError, UsageError
from tinyflow.targets.sim import machine, parse_sim_url

CORES = ["qemu-m0", "qemu-m3", "qemu-m4", "qemu-m7", "qemu-m33", "qemu-m55"]
# The corpus models the micro:bit's 16 KiB of RAM and 256 KiB of flash hold; every other model
# must be refused before building, and every model must run on every other core.
M0_RUNS = {
    "tflm/hello_world_int8.tflite",
    "tflm/micro_speech_quantized.tflite",
    "tflm/keyword_scrambled_8bit.tflite",
    "mlperf_tiny/kws_ref_model.tflite",
}


def test_cores_without_dsp_take_no_kernels_option():
    with pytest.raises(UsageError, match="does not take the option 'kernels'.*Valid: benchmark, board, link, protocol"):
        parse_sim_url("sim://qemu-m3?kernels=dsp")
    assert parse_sim_url("sim://qemu-m55?kernels=portable") == ("qemu-m55", {"kernels": "portable"})


def test_each_core_defaults_to_the_board_it_emulates():
    for name, board_id, clock in [("qemu-m0", "microbit", 16e6), ("qemu-m33", "mps2-an505", 20e6)]:
        b = machine(name).MACHINE.check_board(None)
        assert (b.id, b.cpu_hz) == (board_id, clock)
    assert machine("qemu-m0").MACHINE.check_board("rpipico").id == "rpipico"  # a Cortex-M0+ board
    with pytest.raises(BoardError, match="sim://qemu-m3 emulates a Cortex-M3 but board nano33ble"):
        machine("qemu-m3").MACHINE.check_board("nano33ble")


def test_a_model_too_big_for_the_microbit_is_refused_before_building(monkeypatch):
    from tinyflow.workflows.device import open_device

    def no_build(*a, **k):
        raise AssertionError("the firmware was built")

    monkeypatch.setattr(arm, "build_firmware", no_build)
    model = corpus_path("tflm/person_detect.tflite").read_bytes()
    with pytest.raises(
        BoardError,
        match=r"The model does not fit: it needs [0-9,]+ B RAM but microbit has 14,336 B after a 2,048 B stack",
    ):
        open_device("sim://qemu-m0", model=model)


def test_cli_prints_one_line_for_a_model_that_does_not_fit():
    from tinyflow.cli.main import cli

    path = corpus_path("tflm/person_detect.tflite")
    result = CliRunner().invoke(cli, ["profile", str(path), "--target", "sim://qemu-m0"])
    assert result.exit_code == 1, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1 and "does not fit" in lines[0] and "microbit" in lines[0], result.output
    assert "Traceback" not in result.output


@pytest.mark.arm
@pytest.mark.qemu
@pytest.mark.parametrize("name", ["qemu-m0", "qemu-m3", "qemu-m7", "qemu-m33", "qemu-m55"])
def test_port_ticks_are_exact_instruction_counts(name):
    """The port self-test's two assembly loops differ by exactly 8,000 instructions: the tick
    difference proves each machine's timer rate (MACHINE.timer_hz) and its -icount shift."""
    require_tool(arm.COMPILER)
    mod = machine(name)
    require_tool(mod.MACHINE.qemu)
    memory = arm.MemoryMap(1 << 20, 256 << 10, target=mod.MACHINE.qemu_machine)
    # The self-test speaks mps2.h; the micro:bit port has the same hooks under its own names.
    renames = {f"tinyflow_mps2_{s}": f"tinyflow_microbit_{s}" for s in ("wait_for_input", "boot_count")}
    defines = renames if name == "qemu-m0" else {}
    fw = arm.build_firmware([arm.port_dir() / "echo_main.c"], memory, defines=defines, name="echo")
    port = mod.QemuPort(fw.elf, timeout=10.0)
    try:
        assert port.read(6) == b"ready\n"
        port.write(b"a")
        a = struct.unpack("<I", port.read(4))[0]
        port.write(b"b")
        b = struct.unpack("<I", port.read(4))[0]
        assert mod.MACHINE.instructions(b - a) == 8000
        assert (b - a) / 8000 == pytest.approx(mod.MACHINE.ticks_per_instruction, abs=0.001)
    finally:
        port.close()


def _run(core: str, model: bytes, samples: int = 2):
    """(inputs, outputs per sample, instructions per sample) in a fresh emulator."""
    from tinyflow.targets.client import DeviceClient
    from tinyflow.workflows.device import open_device
    from tinyflow.workflows.profile import random_inputs

    port = open_device(f"sim://{core}", model=model, timeout=60.0)
    try:
        client = DeviceClient(port, timeout=600.0)
        info = client.handshake()
        rng = np.random.default_rng(7)
        xs = [random_inputs(info, rng) for _ in range(samples)]
        results = [client.infer(x) for x in xs]
        return xs, [r.outputs for r in results], [port.machine.instructions(r.ticks) for r in results]
    finally:
        port.close()


@pytest.mark.arm
@pytest.mark.qemu
@pytest.mark.slow
@pytest.mark.parametrize("core", CORES)
def test_instruction_counts_are_deterministic_across_emulator_runs(core):
    """The same inputs in two fresh emulators take exactly the same instructions."""
    require_tool(arm.COMPILER)
    require_tool(machine(core).MACHINE.qemu)
    rel = "tflm/hello_world_int8.tflite" if core == "qemu-m0" else "tflm/micro_speech_quantized.tflite"
    model = corpus_path(rel).read_bytes()
    first, second = _run(core, model, samples=3)[2], _run(core, model, samples=3)[2]
    assert first == second and min(first) > 0


@pytest.mark.arm
@pytest.mark.qemu
@pytest.mark.slow
@pytest.mark.parametrize("core", CORES)
@pytest.mark.parametrize("rel", CORPUS, ids=lambda p: p.split("/")[-1][:-7])
def test_corpus_is_bit_exact_and_deterministic_on_every_core(core, rel):
    from tinyflow.runtimes import tflm

    require_tool(arm.COMPILER)
    require_tool(machine(core).MACHINE.qemu)
    model = corpus_path(rel).read_bytes()
    if core == "qemu-m0" and rel not in M0_RUNS:
        with pytest.raises(BoardError, match="does not fit"):
            _run(core, model)
        pytest.skip(f"{rel} does not fit the micro:bit's 16 KiB RAM / 256 KiB flash (refused before building)")
    xs, outputs, counts = _run(core, model)
    # TFLM carries state across invokes as the device does (stateful models).
    want = tflm.run(model, [x[0] if len(x) == 1 else x for x in xs])
    for k, (got, ref) in enumerate(zip(outputs, want)):
        assert [np.ascontiguousarray(o).tobytes() for o in got] == [np.ascontiguousarray(o).tobytes() for o in ref], (
            f"sample {k} on {core} differs from TFLM"
        )
    assert min(counts) > 0


def test_a_core_name_that_extends_another_is_not_that_core():
    """cortex-m33 contains "cortex-m3": sim://qemu-m3 must still refuse a Cortex-M33 board."""
    from tinyflow.workflows.boards_bench import emulator_for

    m33_board = machine("qemu-m33").MACHINE.board
    with pytest.raises(BoardError, match="emulates a Cortex-M3 but board mps2-an505 has a cortex-m33 core"):
        machine("qemu-m3").MACHINE.check_board(m33_board)
    assert emulator_for("cortex-m33") == "qemu-m33" and emulator_for("cortex-m4f") == "qemu-m4"
    assert emulator_for("cortex-m0plus") == "qemu-m0" and emulator_for("xtensa-lx7") is None
