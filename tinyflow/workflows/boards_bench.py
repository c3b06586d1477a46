"""`tinyflow boards bench MODEL`: one model on every board, fit and cost side by side.

For each board of the catalogue (boards/*.toml) and each board an emulated core carries (the
QEMU boards of sim://qemu-m0 ... -m55): whether the compiled model fits (the one fit check,
tinyflow.boards.fit), and, where a QEMU machine emulates the board's core, the firmware built for
that board and run once: flash and static RAM from the ELF, the exact instruction count, and the
estimated latency at the board's clock (docs/qemu.md). Boards with no emulated core (ESP32) get
the fit only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from tinyflow.errors import TinyflowError

QEMU_CORES = ("qemu-m0", "qemu-m3", "qemu-m4", "qemu-m7", "qemu-m33", "qemu-m55")


@dataclass
class BoardBench:
    """One board's row: the fit, and the emulated run when one was possible."""

    board: str
    core: str
    clock_hz: int
    fit: str  # the fit check's verdict, or "fits (emulated board)" for a QEMU board
    flash_needed: int | None = None  # the fit check's estimate (catalogue boards)
    ram_needed: int | None = None
    simulator: str | None = None  # the sim:// name that ran it
    flash_bytes: int | None = None  # from the ELF
    ram_bytes: int | None = None
    instructions: int | None = None
    est_ms: float | None = None
    note: str = ""


@dataclass
class BoardsBenchReport:
    """The model x board table."""

    model: str
    rows: list[BoardBench] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"model": self.model, "boards": [asdict(r) for r in self.rows]}

    def __str__(self) -> str:
        from tinyflow.escaping import terminal_text
        from tinyflow.report import fmt_bytes, table

        body = [
            [
                r.board,
                r.core,
                r.clock_hz / 1e6,
                r.fit,
                fmt_bytes(r.flash_bytes) if r.flash_bytes is not None else "-",
                fmt_bytes(r.ram_bytes) if r.ram_bytes is not None else "-",
                f"{r.instructions:,}" if r.instructions is not None else "-",
                f"{r.est_ms:.2f}" if r.est_ms is not None else "-",
                r.simulator or "-",
            ]
            for r in self.rows
        ]
        head = ["board", "core", "MHz", "fit", "flash", "RAM", "instructions", "est. ms", "emulated on"]
        notes = [f"  {r.board}: {r.note}" for r in self.rows if r.note]
        # The model name comes from a file name: untrusted text on the terminal.
        text = table(head, body, title=f"{terminal_text(self.model)} on every board (compiled runtime)")
        return text + ("\n" + "\n".join(notes) if notes else "")


def emulator_for(core: str) -> str | None:
    """The sim:// name whose QEMU machine emulates `core` (e.g. cortex-m4f -> qemu-m4), or None."""
    from tinyflow.targets.sim import machine

    return next((n for n in QEMU_CORES if machine(n).MACHINE.runs_core(core)), None)


def bench_boards(model, *, name: str = "model", boards=None, timeout: float = 600.0) -> BoardsBenchReport:
    """Fit and, where a core is emulated, run `model` (bytes or path) on every board.

    Args:
        boards: Board objects or ids (default: the catalogue, then each emulated core's board).
    """
    from tinyflow.boards import list_boards, load_board
    from tinyflow.compile import compile_model
    from tinyflow.targets.device import model_bytes
    from tinyflow.targets.sim import machine

    emulated = {m.board.id: m.board for m in (machine(n).MACHINE for n in QEMU_CORES) if hasattr(m, "board")}
    # Every board is resolved before the first (slow) build, so a typo fails at once.
    if boards is None:
        boards = [*list_boards(), *emulated.values()]
    boards = [emulated.get(b) or load_board(b) if isinstance(b, str) else b for b in boards]
    data = model_bytes(model)
    compiled = compile_model(data, name="model")
    report = BoardsBenchReport(model=name)
    for b in boards:
        row = _fit_row(b, compiled)
        if row.fit.startswith("fits"):
            _run_row(row, b, data, timeout)
        report.rows.append(row)
    return report


def _fit_row(board, compiled) -> BoardBench:
    from tinyflow.boards.fit import fit_model

    row = BoardBench(board=board.id, core=board.core, clock_hz=int(board.cpu_hz), fit="fits (emulated board)")
    if board.runtimes:  # the QEMU boards have no runtime estimates: their build is the check
        fit = fit_model(board, "aot", model_flash=compiled.flash_constants(board.dsp), ram=compiled.plan.arena_bytes)
        row.fit, row.flash_needed, row.ram_needed = fit.verdict, fit.flash_needed, fit.ram_needed
    return row


def _run_row(row: BoardBench, board, data: bytes, timeout: float) -> None:
    """Build for the board, run one random input, fill the row's measured fields."""
    import numpy as np

    from tinyflow.targets.client import DeviceClient
    from tinyflow.workflows.device import open_device
    from tinyflow.workflows.profile import random_inputs

    sim = emulator_for(board.core)
    if sim is None:
        row.note = f"no emulated {board.core} core: fit only"
        return
    row.simulator = f"sim://{sim}"
    try:
        port = open_device(row.simulator, model=data, board=board, timeout=timeout)
    except TinyflowError as exc:  # e.g. the machine holds less than the board (the micro:bit's 16 KiB)
        row.note = exc.message
        return
    try:
        client = DeviceClient(port, timeout=timeout)
        result = client.infer(random_inputs(client.handshake(), np.random.default_rng(0)))
        emu = port.emulation
        row.instructions = port.machine.instructions(result.ticks)
        row.flash_bytes, row.ram_bytes = emu.memory.flash_bytes, emu.memory.ram_bytes
        row.est_ms = 1e3 * port.machine.estimated_seconds(row.instructions, emu.clock_hz)
    finally:
        port.close()
