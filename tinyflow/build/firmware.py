"""Build the firmware a simulated board runs, for a compiled model given as data.

Two machines: the host executable (firmware/ports/host, run on a pseudo-terminal by sim://host)
and the mps2-an386 ELF (firmware/ports/mps2_an386, run on QEMU by sim://qemu-m4). The model
arrives compiled (a tinyflow.compile.CompiledModel: generated C and kernel names) and the
kernels arrive chosen (tinyflow.compile.kernels, by the workflow); nothing here compiles a
model or opens a device. Builds are cached by content hash (tinyflow.build.cc).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinyflow.build import arm
from tinyflow.build.cc import stage_sources
from tinyflow.build.host import build_host_firmware
from tinyflow.escaping import c_string
from tinyflow.resources import firmware_dir

# QEMU's socket absorbs what the host sends while the core computes, so the host may keep a
# window of requests in flight (a real UART has only its FIFO).
RX_QUEUE_BYTES = 16384


@dataclass
class FirmwareOptions:
    """How to build: the sim:// URL options that change the firmware."""

    sanitize: bool = False  # ASan/UBSan (host only)
    fake: bool = False  # the fake model of firmware/tests/ instead of a compiled one (host only)
    eembc: bool = False  # the MLPerf Tiny text protocol instead of tinyflow frames (?protocol=eembc)
    benchmark: str | None = None  # with eembc: kws01, ic01, vww01 or ad01 (that benchmark's I/O conventions)
    rx_bytes: int | None = None  # receive buffer, TINYFLOW_RX_BYTES (host only)


# TINYFLOW_EEMBC_BENCHMARK ids (firmware/include/tinyflow/config.h).
EEMBC_BENCHMARK_IDS = {"kws01": 1, "ic01": 2, "vww01": 3, "ad01": 4}


def eembc_defines(options: FirmwareOptions, *, banner: bool = False) -> dict[str, int]:
    """The EEMBC core's build settings: protocol, benchmark, and the reference boot lines
    (`banner`: only where nothing keeps them for a later reader, see config.h)."""
    if not options.eembc:
        return {}
    return {
        "TINYFLOW_PROTOCOL_EEMBC": 1,
        "TINYFLOW_EEMBC_BENCHMARK": EEMBC_BENCHMARK_IDS.get(options.benchmark or "", 0),
        "TINYFLOW_EEMBC_BANNER": int(banner),
    }


@dataclass
class Firmware:
    """A built firmware: what a simulated machine runs, and what is known about it."""

    path: Path
    memory: arm.ElfMemory | None = None  # flash/RAM from the ELF (ARM builds)
    board: str | None = None

    @property
    def elf(self) -> Path:
        return self.path


@dataclass
class BoardBudget:
    """What an mps2-an386 build needs of a board: its id, clock and the flash/RAM a firmware may use."""

    id: str
    clock_hz: float
    flash_bytes: int
    ram_bytes: int


def board_budget(board) -> BoardBudget:
    """A board's (id, Board or BoardBudget) clock and the flash/RAM left for the firmware
    (the board's memories minus what its core reserves)."""
    from tinyflow.boards import load_board

    if isinstance(board, BoardBudget):
        return board
    b = load_board(board) if isinstance(board, str) else board
    return BoardBudget(
        id=b.id,
        clock_hz=float(b.cpu_hz),
        flash_bytes=b.flash_bytes - b.reserved_flash_bytes,
        ram_bytes=b.ram_bytes - b.reserved_ram_bytes,
    )


def build_host(compiled=None, options: FirmwareOptions | None = None, *, board_id: str | None = None) -> Firmware:
    """The host executable: the core + `compiled` (or the fake model) + the host port.

    Args:
        compiled: a CompiledModel; None (or options.fake) links the fake model.
        board_id: the board the device names in its handshake ("host-<id>").
    """
    options = options or FirmwareOptions()
    defines = {}
    if options.rx_bytes is not None:
        defines["TINYFLOW_RX_BYTES"] = int(options.rx_bytes)
    if board_id:
        defines["TINYFLOW_BOARD_ID"] = c_string(f"host-{board_id}")
    defines.update(eembc_defines(options))
    model = None if options.fake else compiled
    defines.update(compiled_defines(model))
    exe = build_host_firmware(model, sanitize=options.sanitize, eembc=options.eembc, defines=defines)
    return Firmware(path=exe, board=board_id)


def build_mps2(
    compiled,
    board,
    *,
    kernels: list[Path],
    ticks_per_second: int,
    name: str = "model",
    label: str = "",
    options: FirmwareOptions | None = None,
    target: str = arm.DEFAULT_TARGET,
    frontend=None,
    dsp: bool = True,
    trace_table: str | None = None,
) -> Firmware:
    """Cross-build the core + `compiled` + the port of QEMU machine `target` into an ELF for `board`.

    Args:
        kernels: the kernel sources, chosen for the core (tinyflow.compile.kernels).
        ticks_per_second: the tick rate the firmware reports (the machine's, for its board clock).
        label: appended to the build's name (e.g. "-portable"), to tell cached variants apart.
        options: the protocol (options.eembc, options.benchmark); the other fields are host-only.
        target: the QEMU machine (a key of tinyflow.build.arm.TARGETS: core flags, port, memories).
        frontend: the footprint of the front end `compiled` carries (flash and ram bytes:
            tinyflow.export.frontend_tables.frontend_footprint, as boards.fit_model takes it), or None.
        dsp: the machine's core has the DSP extension, so it compiles the DSP-guarded kernel tables.
        trace_table: C defining tinyflow_trace_entries/count (which arena bytes each op writes): builds
            with TINYFLOW_TRACE_OPS and the port's trace.c, which writes them to the `--trace` file.
    Raises:
        BoardError: the firmware does not fit the board (with the numbers; before building when
            the model's constants or arena alone, plus its front end, exceed the machine's memories).
    """
    budget = board_budget(board)
    memory = memory_map(budget, target)
    memory.check_fit(*prebuild_needs(compiled, frontend, dsp))
    # Keyed by the generated C (which embeds the model's hash): a newer compiler never reuses a stale model.c.
    traced = {"tinyflow_trace_table.c": trace_table} if trace_table is not None else {}
    staged = stage_sources({**compiled.sources, **traced}, "qemu-src")
    src_dir, digest = staged[0].parent, staged[0].parent.name[:16]
    fw_dir = firmware_dir()
    sources = [
        *(p for p in staged if p.suffix == ".c"),
        *kernels,
        *sorted((fw_dir / "src").glob("*.c")),
        arm.arm_target(target).main_source,
        *([fw_dir / "ports" / "mps2_an386" / "trace.c"] if traced else []),
    ]
    fw = arm.build_firmware(
        sources,
        memory,
        include_dirs=[src_dir, fw_dir / "src"],
        # QEMU starts the firmware once the host connects, so the reference boot lines reach it.
        defines={
            **port_defines(budget, ticks_per_second),
            **eembc_defines(options or FirmwareOptions(), banner=True),
            **compiled_defines(compiled),
            **({"TINYFLOW_TRACE_OPS": 1} if traced else {}),
        },
        name=f"qemu-{name}-{digest}{label}{'-trace' if traced else ''}",
    )
    return Firmware(path=fw.elf, memory=fw.memory, board=budget.id)


def prebuild_needs(compiled, frontend=None, dsp: bool = True) -> tuple[int, int, str]:
    """(flash, RAM, what) the pre-build check compares with the machine: the model's constants and
    arena, plus its front end's tables and code, buffers and scratch (`frontend`: its footprint).
    `dsp`: the core compiles the DSP-guarded kernel tables (CompiledModel.flash_constants)."""
    flash, ram = compiled.flash_constants(dsp), compiled.plan.arena_bytes
    if frontend is None:
        return flash, ram, "The model"
    config = getattr(compiled, "frontend", None)
    kind = f"{config.name} " if config is not None else ""
    what = f"The model with its {kind}front end ({frontend.ram:,} B RAM, {frontend.flash:,} B flash)"
    return flash + frontend.flash, ram + frontend.ram, what


def compiled_defines(compiled) -> dict[str, int]:
    """The -D a compiled model's generated sources need (`compiled.defines`): e.g. TINYFLOW_FRONTEND_KIND
    when it carries a front end (its plan and C are among its sources: frontend_tables.with_frontend)."""
    return dict(getattr(compiled, "defines", None) or {})


def port_defines(budget: BoardBudget, ticks_per_second: int) -> dict[str, str]:
    """The mps2_an386 port's build settings for a board: tick rate, clock, id, receive queue."""
    return {
        "TINYFLOW_MPS2_TICKS_PER_SECOND": f"{int(ticks_per_second)}u",
        "TINYFLOW_CPU_HZ": f"{int(budget.clock_hz)}u",
        "TINYFLOW_BOARD_ID": c_string(budget.id),
        "TINYFLOW_RX_QUEUE_BYTES": RX_QUEUE_BYTES,
    }


def memory_map(budget: BoardBudget, target: str = arm.DEFAULT_TARGET) -> arm.MemoryMap:
    """The linker's flash/RAM limits for a board on a machine (a firmware that does not fit fails to link)."""
    return arm.MemoryMap(flash_bytes=budget.flash_bytes, ram_bytes=budget.ram_bytes, board=budget.id, target=target)
