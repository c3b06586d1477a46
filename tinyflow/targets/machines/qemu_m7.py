"""`sim://qemu-m7`: the firmware on QEMU's Cortex-M7 board (mps2-an500).

ARMv7E-M with the DSP extension: the cortex_m4 kernel variants run unchanged. Same peripherals as
mps2-an386 (the mps2_an386 port).
Under -icount the tick counts convert exactly to instructions (machines/qemu.py); the time
estimate at the board's clock uses an uncalibrated cycles-per-instruction figure (cores.py).
"""

from __future__ import annotations

from tinyflow.targets.machines import qemu
from tinyflow.targets.machines.cores import CoreMachine, emulated_board, scaled_cpi

BOARD = emulated_board(
    "mps2-an500", "Arm MPS2 with the AN500 image (QEMU)", "cortex-m7", 25_000_000, 4194304, 4194304, fpu=True, dsp=True
)
MACHINE = CoreMachine(
    name="qemu-m7",
    qemu_machine="mps2-an500",
    core="cortex-m7",
    icount_shift=7,  # CMSDK Timer0 at 25 MHz: 3.2 ticks per instruction
    timer_hz=25_000_000,
    cycles_per_instruction=scaled_cpi(5.01),  # CoreMark/MHz 5.01
    link_ram=(0x60000000, 16 << 20),  # machine->ram: the 16 MiB the firmware does not use (memory link)
    default_board=BOARD.id,
    board=BOARD,
)


QemuPort, open = qemu.machine_api(MACHINE)  # noqa: A001 (the machine module's open, as every scheme module has)
