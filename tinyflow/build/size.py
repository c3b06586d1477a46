"""Flash and static RAM of generated C on Cortex-M4, measured by compiling it: data in (sources), numbers out.

The generated sources and the kernel files are compiled with arm-none-eabi-gcc (-O2, Cortex-M4
with FPU) into one relocatable object, whose allocated PROGBITS sections are summed: .text is the
code, the rest (.rodata: weights, parameters) is read-only data. Its writable sections (.data,
.bss) are the static RAM the model needs beyond the stack: the planned arena plus whatever the
kernels keep in static buffers (the Cortex-M4 variants' scratch), measured rather than declared
so a kernel that grows its scratch is counted without anyone updating a table. Whoever composes a format
(tinyflow.export) picks the kernel files (tinyflow.compile.kernels) and passes them in.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

COMPILER = "arm-none-eabi-gcc"
_SHF_WRITE = 0x1  # writable at run time: RAM (.data, .bss)
_SHF_ALLOC = 0x2  # the section occupies memory at run time (flash for PROGBITS)


@dataclass(frozen=True)
class FlashSize:
    """Bytes the code needs in flash on Cortex-M4."""

    code_bytes: int  # .text*
    flash_bytes: int  # code + read-only data (+ .data's initial values)
    ram_bytes: int = 0  # static RAM: .data + .bss (the arena, kernel scratch, any other static state)


def measure_flash(
    sources: dict[str, str], kernel_files: list[Path], name: str, timeout: float = 300
) -> FlashSize | None:
    """Cross-compile `sources` (file name -> C text) with `kernel_files` for Cortex-M4 and size the object.

    Returns None when arm-none-eabi-gcc is not installed (the figure is optional in every report).

    Raises:
        ToolchainError: the compiler failed or took longer than `timeout` seconds.
    """
    if shutil.which(COMPILER) is None:
        return None
    from tinyflow.build.arm import CPU_FLAGS
    from tinyflow.build.cc import CBuild, build_executable, stage_sources
    from tinyflow.resources import firmware_dir

    build = CBuild(
        sources=stage_sources(sources, "compiled-src") + list(kernel_files),
        include_dirs=[firmware_dir() / "include"],
        compiler=COMPILER,
        cflags=["-std=c99", "-O2", *CPU_FLAGS, "-ffunction-sections", "-fdata-sections"],
        ldflags=["-nostdlib", "-r"],
    )
    return section_sizes(build_executable(build, f"{name}_m4.o", timeout=timeout))


def section_sizes(obj: Path) -> FlashSize:
    """Code, flash and static RAM bytes of an ELF object or executable."""
    from elftools.elf.elffile import ELFFile

    code = flash = ram = 0
    with open(obj, "rb") as fh:
        for sec in ELFFile(fh).iter_sections():
            if not sec["sh_flags"] & _SHF_ALLOC:
                continue
            if sec["sh_flags"] & _SHF_WRITE and sec["sh_type"] in ("SHT_PROGBITS", "SHT_NOBITS"):
                ram += sec["sh_size"]
            if sec["sh_type"] == "SHT_PROGBITS":
                flash += sec["sh_size"]
                if sec.name.startswith(".text"):
                    code += sec["sh_size"]
    return FlashSize(code_bytes=code, flash_bytes=flash, ram_bytes=ram)
