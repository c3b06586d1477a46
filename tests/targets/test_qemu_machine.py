"""QEMU machines are table entries: conversions, board checks and ports follow the entry."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from tinyflow.errors import BoardError, UsageError
from tinyflow.targets.machines import qemu, qemu_m4


def test_conversions_follow_the_entry_not_constants():
    m7 = replace(qemu_m4.MACHINE, name="qemu-m7", core="cortex-m7", icount_shift=5, cycles_per_instruction=1.5)
    assert m7.ticks_per_instruction == pytest.approx(0.8)  # 32 ns x 25 MHz
    assert m7.instructions(800) == 1000 and qemu_m4.MACHINE.instructions(800) == 250
    assert m7.estimated_seconds(1_000_000, 100e6) == pytest.approx(0.015)
    assert m7.ticks_per_second_for(100e6) == round(0.8 * 100e6 / 1.5)


def test_each_machine_checks_the_board_core_it_emulates():
    m0 = replace(qemu_m4.MACHINE, name="qemu-m0", core="cortex-m0")
    assert m0.check_board("rpipico").id == "rpipico"  # cortex-m0plus
    with pytest.raises(BoardError, match=r"sim://qemu-m0 emulates a Cortex-M0 but board nano33ble.*rpipico"):
        m0.check_board("nano33ble")
    assert qemu_m4.MACHINE.check_board("nano33ble").cpu_hz == 64_000_000


class _NoEmulator(qemu_m4.QemuPort):
    """The port without starting QEMU: what open() hands the port is under test."""

    def _start(self) -> None:
        pass


def test_open_passes_the_firmware_and_the_board_clock_to_the_port():
    memory = SimpleNamespace(flash_bytes=1, ram_bytes=2, stack_bytes=3)
    fw = SimpleNamespace(path=Path("/tmp/x.elf"), memory=memory, board="nano33ble")
    port = qemu.open_machine(_NoEmulator, "board=disco_l475vg_iot01a", firmware=fw, timeout=3.0)
    emu = port.emulation
    assert port.elf == Path("/tmp/x.elf") and port.timeout == 3.0
    assert (emu.board, emu.clock_hz, emu.memory) == ("disco_l475vg_iot01a", 80e6, memory)
    assert emu.ticks_per_instruction == qemu_m4.TICKS_PER_INSTRUCTION
    assert qemu.open_machine(_NoEmulator, None, firmware="/tmp/y.elf").emulation is None  # memory unknown
    with pytest.raises(BoardError, match="rpipico has a cortex-m0plus core"):
        qemu.open_machine(_NoEmulator, "board=rpipico", firmware=fw)
    with pytest.raises(UsageError, match="sim://qemu-m4 runs a built firmware"):
        qemu.open_machine(_NoEmulator, None)
