"""The emulated Cortex-M cores beyond the M4: each QEMU machine with the board it emulates.

A core's machine module (qemu_m0.py ... qemu_m55.py) is one `CoreMachine` entry; its QemuPort
and open() come from qemu.machine_api. Unlike sim://qemu-m4, whose default board is a real one (nano33ble), most of these
cores have no board in boards/*.toml, so each machine carries the QEMU board itself (its FPGA
clock and memories) as its default board; a catalogue board of the same core (?board=) still
applies its own clock and budgets, clamped to what the machine has (tinyflow.build.arm).

Cycles per instruction: only the Cortex-M4 figure (2.83) is calibrated (machines/qemu_m4.py).
The cores with the M4's instruction set (M3, M7, M33, M55) scale it by the ratio of the M4's
CoreMark/MHz (3.42) to the core's, as published by Arm: how much more a cycle does on that
pipeline. The M0 keeps the M4's figure, as its CoreMark/MHz also counts the extra Thumb-1
instructions, which its instruction count already has. Estimates, not measurements; docs/qemu.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinyflow.boards import Board
from tinyflow.targets.machines import qemu

M4_CYCLES_PER_INSTRUCTION = 2.83
M4_COREMARK_PER_MHZ = 3.42


def scaled_cpi(coremark_per_mhz: float) -> float:
    """Cycles per instruction of a core, from the M4's calibrated figure and CoreMark/MHz."""
    return round(M4_CYCLES_PER_INSTRUCTION * M4_COREMARK_PER_MHZ / coremark_per_mhz, 2)


def emulated_board(board_id: str, name: str, core: str, clock_hz: int, flash: int, ram: int, *, fpu: bool, dsp: bool):
    """The QEMU board as a Board: its clock and the memories the firmware may use."""
    return Board(
        id=board_id,
        name=name,
        mcu=f"QEMU {board_id}",
        core=core,
        cpu_hz=clock_hz,
        flash_bytes=flash,
        ram_bytes=ram,
        reserved_flash_bytes=0,
        reserved_ram_bytes=0,
        fpu=fpu,
        dsp=dsp,
        baud=115200,
        usb_ids=(),
        platformio={},
        runtimes={},
    )


@dataclass(frozen=True)
class CoreMachine(qemu.QemuMachine):
    """A QemuMachine whose default board is the emulated board itself (`board`)."""

    board: Board | None = None

    def check_board(self, board):
        """The machine's own board for its id (or None); otherwise a catalogue board of this core."""
        if board is None or board == self.board.id or board is self.board:
            return self.board
        return super().check_board(board)
