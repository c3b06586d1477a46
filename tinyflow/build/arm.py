"""Cross-build firmware for the emulated Cortex-M4F board (QEMU mps2-an386), cached.

The linker script is clamped to the chosen board's flash and RAM, so a model that does not fit
fails at link time; that failure becomes a BoardError with the numbers. Flash and RAM figures
come from the ELF itself, load-address aware (plain `size` counts the reserved stack as RAM and
misses that .data is stored in flash too).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from tinyflow.build.cache import staging, touch, write_atomic
from tinyflow.build.cc import CBuild, cache_dir, find_compiler, run_compiler
from tinyflow.errors import BoardError, ToolchainError
from tinyflow.resources import firmware_dir

COMPILER = "arm-none-eabi-gcc"
CPU_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]
CFLAGS = ["-std=c99", "-O2", "-g", "-Wall", "-Wextra", *CPU_FLAGS, "-ffunction-sections", "-fdata-sections"]
LDFLAGS = ["-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs", "-Wl,--gc-sections", "-lm"]

# QEMU's mps2-an386 maps 4 MiB of code RAM at 0x0 (our flash) and 4 MiB of SRAM at 0x20000000:
# a board with more than that is clamped to what the emulator has.
FLASH_ORIGIN, FLASH_MAX = 0x00000000, 4 << 20
RAM_ORIGIN, RAM_MAX = 0x20000000, 4 << 20
DEFAULT_STACK_BYTES = 16 * 1024
PORT_SOURCES = ["startup.c", "hal.c", "semihost.c"]

_OVERFLOW = re.compile(r"region `(\w+)' overflowed by (\d+) bytes")


def port_dir() -> Path:
    """firmware/ports/mps2_an386: start-up code, HAL, semihosting, linker script template."""
    return firmware_dir() / "ports" / "mps2_an386"


@dataclass
class MemoryMap:
    """What the firmware may use: the board's budgets, clamped to the emulator's memories."""

    flash_bytes: int
    ram_bytes: int
    stack_bytes: int = DEFAULT_STACK_BYTES
    board: str = "custom"

    def linker_script(self) -> str:
        """The port's linker script with this map's sizes filled in."""
        text = (port_dir() / "link.ld.in").read_text()
        for key, value in (
            ("FLASH_BYTES", min(self.flash_bytes, FLASH_MAX)),
            ("RAM_BYTES", min(self.ram_bytes, RAM_MAX)),
            ("STACK_BYTES", self.stack_bytes),
        ):
            text = text.replace(f"@{key}@", str(value))
        return text


@dataclass
class ElfMemory:
    """Flash and RAM of a linked firmware, from its ELF sections and load segments."""

    flash_bytes: int  # everything stored in flash: code, constants, .data's initial values
    ram_bytes: int  # static RAM: .data + .bss (the reserved stack is not counted)
    stack_bytes: int  # the stack reserve
    sections: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "flash_bytes": self.flash_bytes,
            "ram_bytes": self.ram_bytes,
            "stack_bytes": self.stack_bytes,
            "sections": dict(self.sections),
        }


@dataclass
class ArmFirmware:
    """A linked firmware: the ELF, its linker map, and its memory figures."""

    elf: Path
    map_file: Path
    memory: ElfMemory


def elf_memory(elf: Path) -> ElfMemory:
    """Flash (load addresses) and static RAM (run addresses) of an ELF, stack reserve apart."""
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as fh:
        ef = ELFFile(fh)
        flash = sum(
            seg["p_filesz"] for seg in ef.iter_segments() if seg["p_type"] == "PT_LOAD" and _in_flash(seg["p_paddr"])
        )
        sections, ram, stack = {}, 0, 0
        for sec in ef.iter_sections():
            if not sec["sh_flags"] & SH_FLAGS.SHF_ALLOC or sec["sh_size"] == 0:
                continue
            sections[sec.name] = sec["sh_size"]
            if sec.name in (".stack", ".heap"):
                stack += sec["sh_size"]
            elif RAM_ORIGIN <= sec["sh_addr"] < RAM_ORIGIN + RAM_MAX:
                ram += sec["sh_size"]
    return ElfMemory(flash_bytes=flash, ram_bytes=ram, stack_bytes=stack, sections=sections)


def _in_flash(addr: int) -> bool:
    return FLASH_ORIGIN <= addr < FLASH_ORIGIN + FLASH_MAX


def build_firmware(
    sources: list[Path],
    memory: MemoryMap,
    *,
    include_dirs: list[Path] = (),
    defines: dict | None = None,
    name: str = "firmware",
    timeout: float = 300,
) -> ArmFirmware:
    """Compile and link `sources` plus the mps2_an386 port into a cached ELF.

    Raises:
        BoardError: the firmware does not fit the board's flash or RAM (with the numbers).
        ToolchainError: arm-none-eabi-gcc is missing or the build failed.
    """
    find_compiler(COMPILER)
    script = _write_linker_script(memory)
    build = CBuild(
        sources=[*(port_dir() / s for s in PORT_SOURCES), *map(Path, sources)],
        include_dirs=[port_dir(), firmware_dir() / "include", *map(Path, include_dirs)],
        defines=dict(defines or {}),
        cflags=list(CFLAGS),
        compiler=COMPILER,
        ldflags=[*LDFLAGS, f"-T{script}"],
    )
    out_dir = cache_dir() / f"arm-{name}-{build.cache_key()}"
    elf = out_dir / f"{name}.elf"
    if elf.exists():
        touch(out_dir)
    else:
        _link(build, out_dir, name, memory, timeout)
    return ArmFirmware(elf=elf, map_file=out_dir / f"{name}.map", memory=elf_memory(elf))


def _write_linker_script(memory: MemoryMap) -> Path:
    text = memory.linker_script()
    # Content-addressed name: the path is part of the build's flags, hence of its cache key.
    path = cache_dir() / "ld" / f"mps2_an386-{hashlib.sha256(text.encode()).hexdigest()[:16]}.ld"
    if path.exists():
        touch(path)
    else:
        write_atomic(path, text)
    return path


def _link(build: CBuild, out_dir: Path, name: str, memory: MemoryMap, timeout: float) -> None:
    with staging(out_dir) as tmp:
        # The map path is a flag, not an input: it does not change the cache key.
        build.ldflags.append(f"-Wl,-Map={tmp / (name + '.map')}")
        cmd = build.command(tmp / f"{name}.elf")
        run_compiler(cmd, COMPILER, name, timeout, on_failure=lambda err: _raise_link_failure(err, memory, name))


def _raise_link_failure(stderr: str, memory: MemoryMap, name: str) -> None:
    over = {region: int(n) for region, n in _OVERFLOW.findall(stderr)}
    if over:
        parts = []
        if "FLASH" in over:
            limit = min(memory.flash_bytes, FLASH_MAX)
            parts.append(f"{limit + over['FLASH']:,} B flash but {memory.board} has {limit:,} B")
        if "RAM" in over:
            limit = min(memory.ram_bytes, RAM_MAX)
            parts.append(
                f"{limit + over['RAM']:,} B RAM (including a {memory.stack_bytes:,} B stack) "
                f"but {memory.board} has {limit:,} B"
            )
        raise BoardError(
            f"Firmware {name} does not fit: it needs " + " and ".join(parts),
            "Pick a board with more memory (?board=...), or make the model smaller (prune, fewer filters).",
        )
    first = next((ln for ln in stderr.splitlines() if "error" in ln.lower()), stderr.strip()[:300])
    raise ToolchainError(
        f"{COMPILER} failed building {name}: {first}",
        "This is a tinyflow bug if the sources were generated; please report it with the model.",
    )
