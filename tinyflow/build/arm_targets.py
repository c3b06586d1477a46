"""The emulated Cortex-M machines tinyflow.build.arm builds for: one ArmTarget per QEMU machine.

Each entry says which core flags to compile with, which port sources to link (the mps2 family
shares firmware/ports/mps2_an386; the micro:bit has its own port), where the machine maps the
memories the firmware uses as flash and RAM, and the port settings that differ (peripheral
addresses, IRQ numbers). Data only: building is tinyflow.build.arm's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinyflow.errors import UsageError
from tinyflow.resources import firmware_dir

DEFAULT_STACK_BYTES = 16 * 1024
MPS2_SOURCES = ("mps2_an386/startup.c", "mps2_an386/hal.c", "mps2_an386/semihost.c", "mps2_an386/ring.c")


@dataclass(frozen=True)
class ArmTarget:
    """How to build for one QEMU machine: the core's flags, the port, and the memory map."""

    machine: str  # QEMU's -M
    cpu_flags: tuple[str, ...]
    port: str  # firmware/ports/<port>: the port's own folder
    sources: tuple[str, ...]  # port sources, relative to firmware/ports/ (the mps2 family shares files)
    flash_origin: int
    flash_max: int
    ram_origin: int
    ram_max: int
    stack_bytes: int = DEFAULT_STACK_BYTES
    # Port settings (peripheral addresses, IRQ numbers) and the machine's limits; they win over
    # the caller's defines, as no board can give the firmware more than the machine has.
    defines: tuple[tuple[str, str | int], ...] = ()
    main: str = ""  # the firmware entry under firmware/ports/ ("": <port>/main.c)
    linker: str = ""  # the linker script template ("": <port>/link.ld.in)

    @property
    def port_dir(self) -> Path:
        return firmware_dir() / "ports" / self.port

    @property
    def main_source(self) -> Path:
        return firmware_dir() / "ports" / (self.main or f"{self.port}/main.c")

    @property
    def linker_template(self) -> Path:
        return firmware_dir() / "ports" / (self.linker or f"{self.port}/link.ld.in")

    @property
    def include_dirs(self) -> list[Path]:
        return list(dict.fromkeys([self.port_dir, *((firmware_dir() / "ports" / s).parent for s in self.sources)]))


def _mps2(machine: str, cpu_flags: tuple[str, ...], **overrides) -> ArmTarget:
    """An mps2-family machine: the mps2_an386 port, 4 MiB of code RAM at 0x0 and 4 MiB of SRAM
    at 0x20000000 unless `overrides` say otherwise."""
    fields = {"flash_origin": 0x00000000, "flash_max": 4 << 20, "ram_origin": 0x20000000, "ram_max": 4 << 20}
    fields.update(port="mps2_an386", sources=MPS2_SOURCES)
    fields.update(overrides)
    return ArmTarget(machine=machine, cpu_flags=cpu_flags, **fields)


_HARD = ("-mthumb", "-mfloat-abi=hard")
# The mps2 FPGA images share their peripherals (CMSDK UART0 and timers, same IRQs): one port.
TARGETS = {
    "mps2-an385": _mps2("mps2-an385", ("-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft")),
    "mps2-an386": _mps2("mps2-an386", ("-mcpu=cortex-m4", *_HARD, "-mfpu=fpv4-sp-d16")),
    "mps2-an500": _mps2("mps2-an500", ("-mcpu=cortex-m7", *_HARD, "-mfpu=fpv5-d16")),
    # AN505 (SSE-200, TrustZone) starts secure, so the port reaches its peripherals through their
    # secure aliases. SSRAM1 (4 MiB) at its secure alias 0x10000000 (the initial secure VTOR);
    # SSRAM2+3 (2 x 2 MiB, contiguous) at 0x38000000. Their MPCs reset to all-secure.
    "mps2-an505": _mps2(
        "mps2-an505",
        ("-mcpu=cortex-m33", *_HARD, "-mfpu=fpv5-sp-d16"),
        flash_origin=0x10000000,
        ram_origin=0x38000000,
        defines=(
            ("TINYFLOW_MPS2_UART0", "0x50200000u"),
            ("TINYFLOW_MPS2_UART_RX_IRQ", "32u"),
            ("TINYFLOW_MPS2_TIMER0", "0x50000000u"),
            ("TINYFLOW_MPS2_TIMER1", "0x50001000u"),
            ("TINYFLOW_MPS2_TIMER1_IRQ", "4u"),
            ("TINYFLOW_MPS2_PCLK_HZ", "20000000u"),
            ("TINYFLOW_MPS2_NUM_IRQS", 48),
        ),
    ),
    # SSE-300: the 512 KiB ITCM (secure alias 0x10000000; the reset vector is read at its 0x0
    # alias) holds the code, the 4 MiB SRAM at 0x21000000 (no MPC) the data. No CMSDK timers:
    # the port's own hal.c counts ticks on the FPGA I/O block's free-running counter.
    "mps3-an547": _mps2(
        "mps3-an547",
        ("-mcpu=cortex-m55", *_HARD),
        port="mps3_an547",
        sources=("mps2_an386/startup.c", "mps3_an547/hal.c", "mps2_an386/semihost.c", "mps2_an386/ring.c"),
        flash_origin=0x10000000,
        flash_max=512 << 10,
        ram_origin=0x21000000,
        defines=(
            ("TINYFLOW_MPS2_UART0", "0x59303000u"),
            ("TINYFLOW_MPS2_UART_RX_IRQ", "33u"),
            ("TINYFLOW_MPS2_TIMER1_IRQ", "0xFFFFu"),  # none: no vector refers to the mps2 Timer1 handler
            ("TINYFLOW_MPS2_PCLK_HZ", "20000000u"),
            ("TINYFLOW_MPS2_NUM_IRQS", 48),
        ),
        main="mps2_an386/main.c",
        linker="mps2_an386/link.ld.in",
    ),
    # nRF51822: 256 KiB flash, 16 KiB RAM; the receive queue and stack shrink to leave room.
    "microbit": ArmTarget(
        machine="microbit",
        # Inline assembly is written in unified syntax, which GCC assumes for Thumb-1 only when told.
        cpu_flags=("-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft", "-masm-syntax-unified"),
        port="microbit",
        sources=("microbit/startup.c", "microbit/hal.c", "mps2_an386/semihost.c"),
        flash_origin=0x00000000,
        flash_max=256 << 10,
        ram_origin=0x20000000,
        ram_max=16 << 10,
        stack_bytes=2048,
        defines=(
            ("TINYFLOW_RX_QUEUE_BYTES", 256),
            ("TINYFLOW_RX_BYTES", 1024),
            # No sensor on this port: capture's 4.6 KiB ring and application mode's window queue and
            # kept windows (~5 KiB on M0) stay out of the micro:bit's 16 KiB.
            ("TINYFLOW_CAPTURE", 0),
            ("TINYFLOW_APP", 0),
        ),
    ),
}
DEFAULT_TARGET = "mps2-an386"


def arm_target(machine: str) -> ArmTarget:
    """The build entry of a QEMU machine name (a key of TARGETS)."""
    if machine not in TARGETS:
        raise UsageError(f"No ARM build for QEMU machine {machine!r}", f"Use one of: {', '.join(TARGETS)}.")
    return TARGETS[machine]
