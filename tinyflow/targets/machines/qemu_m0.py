"""`sim://qemu-m0`: the firmware on QEMU's BBC micro:bit (nRF51822, Cortex-M0, 16 KiB RAM).

ARMv6-M: no DSP extension, so the portable kernels; 16 KiB of RAM, so most models are refused before
building (tinyflow.build.arm checks constants and arena against the machine's memories).
Under -icount the tick counts convert exactly to instructions (machines/qemu.py); the time
estimate at the board's clock uses an uncalibrated cycles-per-instruction figure (cores.py).
"""

from __future__ import annotations

from tinyflow.targets.machines import qemu
from tinyflow.targets.machines.cores import M4_CYCLES_PER_INSTRUCTION, CoreMachine, emulated_board

BOARD = emulated_board(
    "microbit", "BBC micro:bit v1 (QEMU microbit)", "cortex-m0", 16_000_000, 262144, 16384, fpu=False, dsp=False
)
MACHINE = CoreMachine(
    name="qemu-m0",
    qemu_machine="microbit",
    core="cortex-m0",
    icount_shift=7,  # TIMER0 at 16 MHz: 2.048 ticks per instruction
    timer_hz=16_000_000,
    # Not scaled by CoreMark/MHz (2.33): that figure also counts the extra Thumb-1 instructions,
    # which the instruction count here already includes; the M4's figure for a 3-stage pipeline.
    cycles_per_instruction=M4_CYCLES_PER_INSTRUCTION,
    default_board=BOARD.id,
    boot_count_symbol="tinyflow_microbit_boot_count",
    board=BOARD,
)


QemuPort, open = qemu.machine_api(MACHINE)  # noqa: A001 (the machine module's open, as every scheme module has)
