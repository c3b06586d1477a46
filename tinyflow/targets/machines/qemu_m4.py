"""`sim://qemu-m4[?board=nano33ble]`: the ARM firmware on QEMU's Cortex-M4F board (mps2-an386).

The firmware (protocol core + compiled model + the mps2_an386 port, linked into the chosen
board's flash and RAM) arrives built; it runs under `qemu-system-arm -icount` with its UART on a
local TCP socket. Tick counts convert exactly to instructions, and to an *estimated* time on the
board through a documented cycles-per-instruction factor (see docs/qemu.md).

Another emulated core (qemu-m0, m3, m7, m33, m55) is a module like this one: its QemuMachine
entry, its QemuPort and open() from qemu.machine_api, and a line in tinyflow.targets.sim.SIMULATORS.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinyflow.targets.machines import qemu
from tinyflow.targets.machines.qemu import EXIT_FAULT, symbol_address  # noqa: F401 (part of this machine's surface)

MACHINE = qemu.QemuMachine(
    name="qemu-m4",
    qemu_machine="mps2-an386",
    core="cortex-m4",
    # One instruction = 2**7 ns of virtual time; Timer0 counts at 25 MHz, so 3.2 ticks per
    # instruction. Above 2 ticks per instruction, the +-1 tick a timer read can be off by rounds
    # away; shift 7 still lets a 32-bit tick count span 1.3 G instructions (the largest corpus
    # model on TFLM reference kernels needs 0.83 G).
    icount_shift=7,
    timer_hz=25_000_000,
    # Cycles per instruction of a Cortex-M4 running int8 inference from flash. Calibrated on the
    # MLPerf Tiny v0.5 STM32L4R5 (120 MHz) TFLM+CMSIS-NN latencies divided by the instruction
    # counts of the same build on mps2-an386 (KWS 2.83, IC 2.83, VWW 2.99, AD 2.07; the median of
    # the four, 2.83). It folds in flash wait states and pipeline stalls; an estimate, not a model.
    cycles_per_instruction=2.83,
    link_ram=(0x21000000, 16 << 20),  # machine->ram: the 16 MiB the firmware does not use (memory link)
    default_board="nano33ble",
)
QEMU = MACHINE.qemu
ICOUNT_SHIFT = MACHINE.icount_shift
TIMER_HZ = MACHINE.timer_hz
TICKS_PER_INSTRUCTION = MACHINE.ticks_per_instruction
CYCLES_PER_INSTRUCTION = MACHINE.cycles_per_instruction
DEFAULT_BOARD = MACHINE.default_board
instructions = MACHINE.instructions
estimated_seconds = MACHINE.estimated_seconds
ticks_per_second_for = MACHINE.ticks_per_second_for


QemuPort, open = qemu.machine_api(MACHINE)  # noqa: A001 (the machine module's open, as every scheme module has)


@dataclass
class Emulation(qemu.Emulation):
    """What the target knows beyond the serial link, with this machine's conversion factors."""

    ticks_per_instruction: float = TICKS_PER_INSTRUCTION
    cycles_per_instruction: float = CYCLES_PER_INSTRUCTION
