"""Cross-build firmware for the emulated Cortex-M boards (QEMU mps2/mps3 and micro:bit), cached.

TARGETS (arm_targets.py) holds one entry per QEMU machine: the core's -mcpu/-mfloat-abi, the port
and where the machine maps the memories the firmware uses as flash and RAM. The linker
script is clamped to the chosen board's flash and RAM (and to what the machine has), so a model
that does not fit fails at link time; that failure becomes a BoardError with the numbers. Flash
and RAM figures come from the ELF itself, load-address aware (plain `size` counts the reserved
stack as RAM and misses that .data is stored in flash too).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

# The machine table (tinyflow/build/arm_targets.py): its names are part of this module's surface.
from tinyflow.build.arm_targets import DEFAULT_STACK_BYTES, DEFAULT_TARGET, TARGETS, ArmTarget, arm_target  # noqa: F401
from tinyflow.build.cache import staging, touch, write_atomic
from tinyflow.build.cc import CBuild, cache_dir, find_compiler, run_compiler
from tinyflow.errors import BoardError, ToolchainError
from tinyflow.resources import firmware_dir

COMPILER = "arm-none-eabi-gcc"
COMMON_CFLAGS = ["-std=c99", "-O2", "-g", "-Wall", "-Wextra", "-ffunction-sections", "-fdata-sections"]
LDFLAGS = ["-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs", "-Wl,--gc-sections", "-lm"]
_OVERFLOW = re.compile(r"region `(\w+)' overflowed by (\d+) bytes")

# The mps2-an386 figures, for callers that predate TARGETS.
CPU_FLAGS = list(TARGETS[DEFAULT_TARGET].cpu_flags)
CFLAGS = [*COMMON_CFLAGS, *CPU_FLAGS]
FLASH_ORIGIN, FLASH_MAX = TARGETS[DEFAULT_TARGET].flash_origin, TARGETS[DEFAULT_TARGET].flash_max
RAM_ORIGIN, RAM_MAX = TARGETS[DEFAULT_TARGET].ram_origin, TARGETS[DEFAULT_TARGET].ram_max


def port_dir(machine: str = DEFAULT_TARGET) -> Path:
    """firmware/ports/<port> of a machine: start-up code, HAL, main.c, linker script template."""
    return arm_target(machine).port_dir


@dataclass
class MemoryMap:
    """What the firmware may use: the board's budgets, clamped to the emulator's memories."""

    flash_bytes: int
    ram_bytes: int
    stack_bytes: int | None = None  # None: the machine's default
    board: str = "custom"
    target: str = DEFAULT_TARGET  # the QEMU machine (a key of TARGETS)

    def __post_init__(self):
        if self.stack_bytes is None:
            self.stack_bytes = arm_target(self.target).stack_bytes

    @property
    def flash_limit(self) -> int:
        return min(self.flash_bytes, arm_target(self.target).flash_max)

    @property
    def ram_limit(self) -> int:
        return min(self.ram_bytes, arm_target(self.target).ram_max)

    def linker_script(self) -> str:
        """The port's linker script with this map's origins and sizes filled in."""
        t = arm_target(self.target)
        text = t.linker_template.read_text()
        for key, value in (
            ("FLASH_ORIGIN", f"{t.flash_origin:#010x}"),
            ("RAM_ORIGIN", f"{t.ram_origin:#010x}"),
            ("FLASH_BYTES", self.flash_limit),
            ("RAM_BYTES", self.ram_limit),
            ("STACK_BYTES", self.stack_bytes),
        ):
            text = text.replace(f"@{key}@", str(value))
        return text

    def check_fit(self, flash_bytes: int, ram_bytes: int, what: str) -> None:
        """Refuse, before building, a model whose constants or arena alone exceed the limits.

        Raises:
            BoardError: saying which memory, how much is needed and how much there is.
        """
        parts = []
        # Same wording as the linker's overflow (_raise_link_failure), the machine named when it is not the board.
        on = "" if self.board == self.target else f" on {self.target}"
        if flash_bytes > self.flash_limit:
            parts.append(
                f"{flash_bytes:,} B flash but {self.board} has {self.flash_limit:,} B{on} (its constants alone)"
            )
        ram_limit = self.ram_limit - self.stack_bytes
        if ram_bytes > ram_limit:
            parts.append(
                f"{ram_bytes:,} B RAM but {self.board} has {ram_limit:,} B{on} "
                f"after a {self.stack_bytes:,} B stack (its arena alone)"
            )
        if parts:
            raise BoardError(
                f"{what} does not fit: it needs " + " and ".join(parts),
                "Pick a board (?board=...) or an emulated core (sim://qemu-m4) with more memory, "
                "or make the model smaller (prune, fewer filters).",
            )


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


def elf_memory(elf: Path, machine: str = DEFAULT_TARGET) -> ElfMemory:
    """Flash (load addresses) and static RAM (run addresses) of an ELF, stack reserve apart."""
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    t = arm_target(machine)
    with open(elf, "rb") as fh:
        ef = ELFFile(fh)
        flash = sum(
            seg["p_filesz"]
            for seg in ef.iter_segments()
            if seg["p_type"] == "PT_LOAD" and t.flash_origin <= seg["p_paddr"] < t.flash_origin + t.flash_max
        )
        sections, ram, stack = {}, 0, 0
        for sec in ef.iter_sections():
            if not sec["sh_flags"] & SH_FLAGS.SHF_ALLOC or sec["sh_size"] == 0:
                continue
            sections[sec.name] = sec["sh_size"]
            if sec.name in (".stack", ".heap"):
                stack += sec["sh_size"]
            elif t.ram_origin <= sec["sh_addr"] < t.ram_origin + t.ram_max:
                ram += sec["sh_size"]
    return ElfMemory(flash_bytes=flash, ram_bytes=ram, stack_bytes=stack, sections=sections)


def build_firmware(
    sources: list[Path],
    memory: MemoryMap,
    *,
    include_dirs: list[Path] = (),
    defines: dict | None = None,
    name: str = "firmware",
    timeout: float = 300,
) -> ArmFirmware:
    """Compile and link `sources` plus the port of `memory.target` into a cached ELF.

    Raises:
        BoardError: the firmware does not fit the board's flash or RAM (with the numbers).
        ToolchainError: arm-none-eabi-gcc is missing or the build failed.
    """
    find_compiler(COMPILER)
    t = arm_target(memory.target)
    script = _write_linker_script(memory)
    build = CBuild(
        sources=[*(firmware_dir() / "ports" / s for s in t.sources), *map(Path, sources)],
        include_dirs=[*t.include_dirs, firmware_dir() / "include", *map(Path, include_dirs)],
        defines={**dict(defines or {}), **dict(t.defines)},
        cflags=[*COMMON_CFLAGS, *t.cpu_flags],
        compiler=COMPILER,
        ldflags=[*LDFLAGS, f"-T{script}"],
    )
    out_dir = cache_dir() / f"arm-{name}-{build.cache_key()}"
    elf = out_dir / f"{name}.elf"
    if elf.exists():
        touch(out_dir)
    else:
        _link(build, out_dir, name, memory, timeout)
    return ArmFirmware(elf=elf, map_file=out_dir / f"{name}.map", memory=elf_memory(elf, memory.target))


def _write_linker_script(memory: MemoryMap) -> Path:
    text = memory.linker_script()
    # Content-addressed name: the path is part of the build's flags, hence of its cache key.
    path = cache_dir() / "ld" / f"{arm_target(memory.target).port}-{hashlib.sha256(text.encode()).hexdigest()[:16]}.ld"
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
            limit = memory.flash_limit
            parts.append(f"{limit + over['FLASH']:,} B flash but {memory.board} has {limit:,} B")
        if "RAM" in over:
            limit = memory.ram_limit
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
