"""`sim://qemu-m3`: the firmware on QEMU's Cortex-M3 board (mps2-an385).

ARMv7-M without the DSP extension: the portable kernels. Same peripherals as mps2-an386 (the
mps2_an386 port).
Under -icount the tick counts convert exactly to instructions (machines/qemu.py); the time
estimate at the board's clock uses an uncalibrated cycles-per-instruction figure (cores.py).
"""

from __future__ import annotations

from tinyflow.targets.machines import qemu
from tinyflow.targets.machines.cores import CoreMachine, emulated_board, scaled_cpi

BOARD = emulated_board(
    "mps2-an385",
    "Arm MPS2 with the AN385 image (QEMU)",
    "cortex-m3",
    25_000_000,
    4194304,
    4194304,
    fpu=False,
    dsp=False,
)
MACHINE = CoreMachine(
    name="qemu-m3",
    qemu_machine="mps2-an385",
    core="cortex-m3",
    icount_shift=7,  # CMSDK Timer0 at 25 MHz: 3.2 ticks per instruction
    timer_hz=25_000_000,
    cycles_per_instruction=scaled_cpi(3.34),  # CoreMark/MHz 3.34
    link_ram=(0x21000000, 16 << 20),  # machine->ram: the 16 MiB the firmware does not use (memory link)
    default_board=BOARD.id,
    board=BOARD,
)


QemuPort, open = qemu.machine_api(MACHINE)  # noqa: A001 (the machine module's open, as every scheme module has)
