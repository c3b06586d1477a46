"""`sim://qemu-m33`: the firmware on QEMU's Cortex-M33 board (mps2-an505, SSE-200).

ARMv8-M Mainline with the DSP extension: the cortex_m4 kernel variants. The mps2_an386 port, built
for the secure aliases of the SSE-200's timers and the FPGA's UART.
Under -icount the tick counts convert exactly to instructions (machines/qemu.py); the time
estimate at the board's clock uses an uncalibrated cycles-per-instruction figure (cores.py).
"""

from __future__ import annotations

from tinyflow.targets.machines import qemu
from tinyflow.targets.machines.cores import CoreMachine, emulated_board, scaled_cpi

BOARD = emulated_board(
    "mps2-an505", "Arm MPS2 with the AN505 image (QEMU)", "cortex-m33", 20_000_000, 4194304, 4194304, fpu=True, dsp=True
)
MACHINE = CoreMachine(
    name="qemu-m33",
    qemu_machine="mps2-an505",
    core="cortex-m33",
    icount_shift=7,  # the SSE-200's CMSDK Timer0 at 20 MHz: 2.56 ticks per instruction
    timer_hz=20_000_000,
    cycles_per_instruction=scaled_cpi(4.02),  # CoreMark/MHz 4.02
    link_ram=(0x80000000, 16 << 20),  # machine->ram: the 16 MiB the firmware does not use (memory link)
    default_board=BOARD.id,
    board=BOARD,
)


QemuPort, open = qemu.machine_api(MACHINE)  # noqa: A001 (the machine module's open, as every scheme module has)
