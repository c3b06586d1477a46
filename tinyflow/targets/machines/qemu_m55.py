"""`sim://qemu-m55`: the firmware on QEMU's Cortex-M55 board (mps3-an547, SSE-300).

ARMv8.1-M with the DSP extension (and MVE, which the kernels do not use yet): the cortex_m4 kernel
variants. Code in the 512 KiB ITCM, data in the 4 MiB SRAM.
Under -icount the tick counts convert exactly to instructions (machines/qemu.py); the time
estimate at the board's clock uses an uncalibrated cycles-per-instruction figure (cores.py).
"""

from __future__ import annotations

from tinyflow.targets.machines import qemu
from tinyflow.targets.machines.cores import CoreMachine, emulated_board, scaled_cpi

BOARD = emulated_board(
    "mps3-an547", "Arm MPS3 with the AN547 image (QEMU)", "cortex-m55", 32_000_000, 524288, 4194304, fpu=True, dsp=True
)
MACHINE = CoreMachine(
    name="qemu-m55",
    qemu_machine="mps3-an547",
    core="cortex-m55",
    icount_shift=7,  # the FPGA I/O COUNTER at 20 MHz (measured): 2.56 ticks per instruction
    timer_hz=20_000_000,
    cycles_per_instruction=scaled_cpi(4.2),  # CoreMark/MHz 4.2
    link_ram=(0x60000000, 2 << 30),  # machine->ram: the 2 GiB DDR behind its MPC (memory link)
    default_board=BOARD.id,
    board=BOARD,
)


QemuPort, open = qemu.machine_api(MACHINE)  # noqa: A001 (the machine module's open, as every scheme module has)
