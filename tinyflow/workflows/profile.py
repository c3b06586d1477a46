"""Profile a model on a target: per-op time, flash and static RAM, stack high-water, arena used.

Works on every target the device link can open (sim://tflm, sim://host, sim://qemu-m4, a real
board). On sim://qemu-m4 the figures also come as exact instruction counts, and flash/RAM are read
from the firmware's ELF; elsewhere they are what the device's handshake and stats report.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from tinyflow import events
from tinyflow.escaping import terminal_text
from tinyflow.report import fmt_latency, latency_unit
from tinyflow.workflows.config import ProfileConfig


@dataclass
class OpProfile:
    index: int
    name: str
    ticks: int
    share: float  # of the whole inference
    microseconds: float
    instructions: int | None = None  # sim://qemu-m4 only (exact)
    cycles: int | None = None  # sim://qemu-m4 only: estimated by the Cortex-M4 timing model

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class ProfileReport:
    """One model profiled on one target."""

    model: str
    target: str
    runtime: str
    board: str | None
    ticks_per_second: int
    total_ticks: int  # the whole inference, timed by the device
    ops: list[OpProfile] = field(default_factory=list)
    flash_bytes: int | None = None
    ram_bytes: int | None = None  # static RAM (.data + .bss) when known from the ELF
    memory_source: str = "device"
    stack_reserve: int | None = None  # RAM the linker sets aside for the stack (ELF), not in ram_bytes
    stack_high_water: int | None = None
    arena_bytes: int | None = None
    arena_used: int | None = None
    instructions: int | None = None  # whole inference, sim://qemu-m4 only
    clock_hz: float | None = None
    cycles_per_instruction: float | None = None
    runs: int = 1
    notes: list[str] = field(default_factory=list)
    # sim://qemu-m4 only: the Cortex-M4 timing model on QEMU's instruction mix (workflows/cycles.py)
    estimated_cycles: int | None = None
    estimated_cpi: float | None = None
    cycle_functions: list[dict] = field(default_factory=list)  # top functions by estimated cycles
    cycle_classes: dict = field(default_factory=dict)  # timing class -> {instructions, cycles}, inside ops

    @property
    def op_ticks(self) -> int:
        return sum(op.ticks for op in self.ops)

    @property
    def coverage(self) -> float:
        """Sum of the per-op times over the whole inference (1.0 = nothing outside ops)."""
        return self.op_ticks / self.total_ticks if self.total_ticks else 0.0

    @property
    def latency_ms(self) -> float:
        return 1e3 * self.total_ticks / self.ticks_per_second if self.ticks_per_second else 0.0

    def to_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "ops"}
        out.update(
            ops=[op.to_dict() for op in self.ops],
            latency_ms=self.latency_ms,
            op_ticks=self.op_ticks,
            coverage=self.coverage,
        )
        return out

    def __str__(self) -> str:
        qemu = self.instructions is not None
        cyc = any(op.cycles is not None for op in self.ops)
        unit, scale = latency_unit(1e3 * self.latency_ms)  # one unit for the column: the whole inference's
        digits = 1 if unit == "µs" else 3
        head = (
            f"{'#':>3}  {'op':<20} {'ticks':>12} {'share':>7} {f'time ({unit})':>11}"
            + (f" {'instructions':>13}" if qemu else "")
            + (f" {'est. cycles':>13}" if cyc else "")
        )
        show = terminal_text  # the file name, the board id and op names (from the device) are untrusted
        lines = [
            f"Profile of {show(self.model)} on {show(self.target)} ({show(self.runtime)} runtime"
            + (f", board {show(self.board)}" if self.board else "")
            + ")",
            head,
            "-" * len(head),
        ]
        for op in self.ops:
            lines.append(
                f"{op.index:>3}  {show(op.name):<20} {op.ticks:>12,} {op.share:>7.1%} {op.microseconds / scale:>11.{digits}f}"
                + (f" {op.instructions:>13,}" if qemu else "")
                + ((f" {op.cycles:>13,}" if op.cycles is not None else f" {'':>13}") if cyc else "")
            )
        lines.append("-" * len(head))
        lines.append(f"     {'ops total':<20} {self.op_ticks:>12,} {self.coverage:>7.1%}")
        lines.append(
            f"     {'whole inference':<20} {self.total_ticks:>12,} {1:>7.0%} {1e3 * self.latency_ms / scale:>11.{digits}f}"
            + (f" {self.instructions:>13,}" if qemu else "")
            + (f" {self.estimated_cycles:>13,}" if cyc and self.estimated_cycles is not None else "")
        )
        lines += ["", *self._summary()]
        return "\n".join(lines)

    def _summary(self) -> list[str]:
        out = [
            f"latency            {fmt_latency(1e3 * self.latency_ms)}"
            + (" (estimate)" if self.instructions is not None else "")
        ]
        if self.instructions is not None:
            out.append(f"instructions       {self.instructions:,} per inference (exact, QEMU -icount)")
            out.append(
                f"estimate basis     {self.cycles_per_instruction} cycles/instruction at "
                f"{(self.clock_hz or 0) / 1e6:g} MHz (see docs/qemu.md)"
            )
        out += self._cycles_summary()
        out.append(f"flash              {_bytes(self.flash_bytes)} ({self.memory_source})")
        reserve = f"; + {self.stack_reserve:,} B stack reserve" if self.stack_reserve else ""
        out.append(f"static RAM         {_bytes(self.ram_bytes)} ({self.memory_source}{reserve})")
        out.append(f"arena used         {_bytes(self.arena_used)} of {_bytes(self.arena_bytes)}")
        out.append(f"stack high-water   {_bytes(self.stack_high_water)}")
        return out + [f"note: {n}" for n in self.notes]

    def write_html(self, directory: Path) -> Path:
        """Write DIR/profile.html: summary, per-op bar chart and table (workflows/report_html.py)."""
        from tinyflow import __version__
        from tinyflow.outputs import atomic_write, make_dir, writing
        from tinyflow.workflows.report_html import render_profile

        path = make_dir(directory) / "profile.html"
        with writing(path):
            atomic_write(path, render_profile({**self.to_dict(), "tinyflow_version": __version__}).encode())
        return path

    def _cycles_summary(self) -> list[str]:
        if self.estimated_cycles is None:
            return []
        ms = (
            f", {1e3 * self.estimated_cycles / self.clock_hz:.2f} ms at {self.clock_hz / 1e6:g} MHz"
            if self.clock_hz
            else ""
        )
        out = [
            f"est. cycles        {self.estimated_cycles:,} per inference (CPI {self.estimated_cpi:.2f}{ms}; "
            "Cortex-M4 timing model on QEMU's instruction mix, zero wait states, docs/qemu.md)"
        ]
        total = sum(f["cycles"] for f in self.cycle_functions) or 1
        for f in self.cycle_functions[:6]:
            out.append(
                f"  {terminal_text(f['name'])[:32]:<32} {f['cycles'] / total:>6.1%} of cycles, CPI {f['cpi']:.2f}"
            )
        return out


def _bytes(n: int | None) -> str:
    return "n/a" if n is None else f"{n:,} B"


def build_report(
    *,
    model: str,
    target: str,
    info,
    op_ticks_runs: list[list[int]],
    total_ticks_runs: list[int],
    op_names: list[str],
    stats=None,
    emulation=None,
) -> ProfileReport:
    """Assemble a ProfileReport from what the device said (pure: no I/O).

    Args:
        info: the handshake (runtime, board, ticks_per_second, arena_bytes attributes or keys).
        op_ticks_runs: per-op ticks of each profiled run; the median per op is reported.
        total_ticks_runs: whole-inference ticks of each run.
        stats: the device's stats (arena_used, stack_high_water), or None.
        emulation: targets.machines.qemu.Emulation when the target is sim://qemu-m4.
    """
    tps = int(_get(info, "ticks_per_second") or 1)
    total = int(statistics.median(total_ticks_runs))
    per_op = [int(statistics.median(col)) for col in zip(*op_ticks_runs)] if op_ticks_runs else []
    ops = [
        OpProfile(
            index=i,
            name=(op_names[i] if i < len(op_names) else f"op{i}"),
            ticks=t,
            share=t / total if total else 0.0,
            microseconds=1e6 * t / tps,
        )
        for i, t in enumerate(per_op)
    ]
    report = ProfileReport(
        model=model,
        target=target,
        runtime=str(_get(info, "runtime") or "?"),
        board=_get(info, "board_id") or _get(info, "board"),
        ticks_per_second=tps,
        total_ticks=total,
        ops=ops,
        arena_bytes=_get(info, "arena_bytes"),
        arena_used=_get(stats, "arena_used") or _get(stats, "arena_used_bytes"),
        stack_high_water=_get(stats, "stack_high_water") or _get(stats, "stack_high_water_bytes"),
        runs=len(total_ticks_runs),
    )
    for key in ("flash_bytes", "ram_bytes"):
        setattr(report, key, _get(stats, key) or _get(info, key))
    if emulation is not None:
        _apply_emulation(report, emulation)
    return report


def _apply_emulation(report: ProfileReport, emulation) -> None:
    from tinyflow.targets.machines.qemu_m4 import instructions

    for op in report.ops:
        op.instructions = instructions(op.ticks)
    report.instructions = instructions(report.total_ticks)
    report.board = emulation.board
    report.clock_hz = emulation.clock_hz
    report.cycles_per_instruction = emulation.cycles_per_instruction
    report.flash_bytes = emulation.memory.flash_bytes
    report.ram_bytes = emulation.memory.ram_bytes
    report.memory_source = "ELF"
    report.stack_reserve = emulation.memory.stack_bytes  # RAM: shown on the RAM line, never with flash
    report.notes.append("times are estimates for the board from exact instruction counts (docs/qemu.md)")


def _get(obj, key):
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def profile_model(config: ProfileConfig) -> ProfileReport:
    """Open the target with the model, run `config.runs` profiled inferences on random inputs, gather memory.

    Emits (tinyflow.events): the stage "open" around opening the target (a first firmware build
    is there) and Progress("profile", run, runs) after each profiled inference.

    Raises:
        LinkError, BoardError, ModelError: from opening and talking to the target.
    """
    import numpy as np

    from tinyflow.targets.client import DeviceClient
    from tinyflow.tflite import read_model_file
    from tinyflow.workflows.cycles import apply_cycles, attach_profile_mix
    from tinyflow.workflows.device import model_frontend
    from tinyflow.workflows.evaluate import open_detail

    path, target, runs, timeout = Path(config.model), config.target, config.runs, config.timeout
    model_bytes = read_model_file(path)
    with events.stage("open", open_detail(target)):
        # The sidecar's front end runs on the device too: PROFILE then shows it as op 0, FRONTEND.
        frontend = model_frontend(path)
        port = _open(target, model_bytes, config.board, timeout, **({"frontend": frontend} if frontend else {}))
    try:
        mix, mix_notes = attach_profile_mix(port)
        client = DeviceClient(port, timeout=timeout)
        info = client.handshake()
        # One input for every run: the spread between runs is then the target's timing jitter.
        inputs = random_inputs(info, np.random.default_rng(config.seed))
        totals, per_op, names = [], [], []
        events.emit(events.Progress("profile", 0, runs))
        for run in range(runs):
            result = client.infer(inputs)
            totals.append(int(_get(result, "ticks")))
            ops = client.profile()  # [(name, ticks)] of the inference just run
            per_op.append([int(t) for _, t in ops])
            names = [name for name, _ in ops]
            events.emit(events.Progress("profile", run + 1, runs))
        stats = client.stats()
        report = build_report(
            model=path.name,
            target=target,
            info=info,
            op_ticks_runs=per_op,
            total_ticks_runs=totals,
            op_names=names,
            stats=stats,
            emulation=getattr(port, "emulation", None),
        )
        report.notes += _target_notes(target) + mix_notes
        if mix is not None and report.instructions is not None:
            apply_cycles(report, mix.finish(), runs)  # workflows/cycles.py
        return report
    finally:
        port.close()


def _target_notes(target: str) -> list[str]:
    """What the times mean on simulated targets that are not an emulated board."""
    if target.startswith("sim://tflm"):
        return ["times are estimates from MACs and the board's clock (sim://tflm), not measurements"]
    if target.startswith("sim://host"):
        return ["times are this computer's CPU running the firmware (sim://host), not a board's"]
    return []


def _open(target: str, model: bytes, board: str | None, timeout: float, frontend=None):
    from tinyflow.workflows.device import open_device

    return open_device(target, model=model, board=board, timeout=timeout, frontend=frontend)


def random_inputs(info, rng) -> list:
    """One random input per input tensor of the handshake, in its dtype and shape."""
    import numpy as np

    from tinyflow.targets.client import NUMPY_DTYPES

    out = []
    for spec in _get(info, "inputs"):
        code = _get(spec, "dtype")
        dtype = np.dtype(NUMPY_DTYPES[code] if isinstance(code, int) else code)
        shape = _get(spec, "shape")
        shape = tuple(shape if shape is not None else _get(spec, "dims") or ())  # () is a scalar, not "missing"
        if dtype.kind == "f":
            out.append(rng.standard_normal(shape).astype(dtype))
        else:
            lim = np.iinfo(dtype)
            out.append(rng.integers(lim.min, lim.max, size=shape, endpoint=True, dtype=dtype))
    return out
