"""Profile a model on a target: per-op time, flash and static RAM, stack high-water, arena used.

Works on every target the device link can open (sim://tflm, sim://host, sim://qemu-m4, a real
board). On sim://qemu-m4 the figures also come as exact instruction counts, and flash/RAM are read
from the firmware's ELF; elsewhere they are what the device's handshake and stats report.
"""

from __future__ import annotations

import html
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from tinyflow.errors import UsageError
from tinyflow.escaping import terminal_text


@dataclass
class OpProfile:
    index: int
    name: str
    ticks: int
    share: float  # of the whole inference
    microseconds: float
    instructions: int | None = None  # sim://qemu-m4 only (exact)

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
    stack_high_water: int | None = None
    arena_bytes: int | None = None
    arena_used: int | None = None
    instructions: int | None = None  # whole inference, sim://qemu-m4 only
    clock_hz: float | None = None
    cycles_per_instruction: float | None = None
    runs: int = 1
    notes: list[str] = field(default_factory=list)

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
        head = f"{'#':>3}  {'op':<20} {'ticks':>12} {'share':>7} {'time (us)':>11}" + (
            f" {'instructions':>13}" if qemu else ""
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
                f"{op.index:>3}  {show(op.name):<20} {op.ticks:>12,} {op.share:>7.1%} {op.microseconds:>11.1f}"
                + (f" {op.instructions:>13,}" if qemu else "")
            )
        lines.append("-" * len(head))
        lines.append(f"     {'ops total':<20} {self.op_ticks:>12,} {self.coverage:>7.1%}")
        lines.append(
            f"     {'whole inference':<20} {self.total_ticks:>12,} {1:>7.0%} {1e3 * self.latency_ms:>11.1f}"
            + (f" {self.instructions:>13,}" if qemu else "")
        )
        lines += ["", *self._summary()]
        return "\n".join(lines)

    def _summary(self) -> list[str]:
        out = [
            f"latency            {self.latency_ms:.3f} ms" + (" (estimate)" if self.instructions is not None else "")
        ]
        if self.instructions is not None:
            out.append(f"instructions       {self.instructions:,} per inference (exact, QEMU -icount)")
            out.append(
                f"estimate basis     {self.cycles_per_instruction} cycles/instruction at "
                f"{(self.clock_hz or 0) / 1e6:g} MHz (see docs/qemu.md)"
            )
        out.append(f"flash              {_bytes(self.flash_bytes)} ({self.memory_source})")
        out.append(f"static RAM         {_bytes(self.ram_bytes)} ({self.memory_source})")
        out.append(f"arena used         {_bytes(self.arena_used)} of {_bytes(self.arena_bytes)}")
        out.append(f"stack high-water   {_bytes(self.stack_high_water)}")
        return out + [f"note: {n}" for n in self.notes]

    def write_html(self, directory: Path) -> Path:
        """Write DIR/profile.html: the table and an inline SVG bar chart of the per-op shares."""
        from tinyflow.outputs import make_dir, writing

        path = make_dir(directory) / "profile.html"
        title = html.escape(f"tinyflow profile: {self.model} on {self.target}")
        with writing(path):
            path.write_text(
                f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
                "<style>body{font-family:sans-serif;margin:2em}pre{font-size:13px}</style></head>"
                f"<body><h1>{title}</h1>{svg_bars(self.ops)}<pre>{html.escape(str(self))}</pre></body></html>\n"
            )
        return path


def _bytes(n: int | None) -> str:
    return "n/a" if n is None else f"{n:,} B"


def svg_bars(ops: list[OpProfile], width: int = 720, bar: int = 18) -> str:
    """An inline SVG: one horizontal bar per op, its length the op's share of the inference."""
    label_w, top = 200, 10
    height = top * 2 + bar * len(ops)
    scale = (width - label_w - 70) / max((op.share for op in ops), default=1.0) if ops else 0
    rows = []
    for i, op in enumerate(ops):
        y = top + i * bar
        w = max(op.share * scale, 1.0)
        name = html.escape(f"{op.index} {op.name}")
        rows.append(
            f"<text x='{label_w - 6}' y='{y + bar - 5}' text-anchor='end' font-size='12'>{name}</text>"
            f"<rect x='{label_w}' y='{y + 2}' width='{w:.1f}' height='{bar - 4}' fill='#3b7dd8'>"
            f"<title>{name}: {op.ticks:,} ticks</title></rect>"
            f"<text x='{label_w + w + 4:.1f}' y='{y + bar - 5}' font-size='12'>{op.share:.1%}</text>"
        )
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"role='img' aria-label='time per op'>{''.join(rows)}</svg>"
    )


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
        emulation: sim_qemu.Emulation when the target is sim://qemu-m4.
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
    from tinyflow.targets.sim_qemu import instructions

    for op in report.ops:
        op.instructions = instructions(op.ticks)
    report.instructions = instructions(report.total_ticks)
    report.board = emulation.board
    report.clock_hz = emulation.clock_hz
    report.cycles_per_instruction = emulation.cycles_per_instruction
    report.flash_bytes = emulation.memory.flash_bytes
    report.ram_bytes = emulation.memory.ram_bytes
    report.memory_source = f"ELF; +{emulation.memory.stack_bytes:,} B stack reserve"
    report.notes.append("times are estimates for the board from exact instruction counts (docs/qemu.md)")


def _get(obj, key):
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def profile_model(
    model, target: str, *, board: str | None = None, runs: int = 1, seed: int = 0, timeout: float = 5.0
) -> ProfileReport:
    """Open `target` with MODEL, run `runs` profiled inferences on random inputs, gather memory.

    `timeout` has eval's meaning: the seconds a complete reply frame may take before the request
    is retried (the handshake gets a few of them, like eval's).

    Raises:
        UsageError: a timeout that is not a finite number above 0.
        LinkError, BoardError, ModelError: from opening and talking to the target.
    """
    import numpy as np

    from tinyflow.targets.client import DeviceClient
    from tinyflow.tflite import read_model_file

    if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
        raise UsageError(
            f"The timeout must be a finite number of seconds above 0, got {timeout!r}", "Pass e.g. --timeout 5."
        )  # a nan or inf deadline never comes
    path = Path(model)
    port = _open(target, read_model_file(path), board, timeout)
    try:
        client = DeviceClient(port, timeout=timeout)
        info = client.handshake()
        # One input for every run: the spread between runs is then the target's timing jitter.
        inputs = random_inputs(info, np.random.default_rng(seed))
        totals, per_op, names = [], [], []
        for _ in range(runs):
            result = client.infer(inputs)
            totals.append(int(_get(result, "ticks")))
            ops = client.profile()  # [(name, ticks)] of the inference just run
            per_op.append([int(t) for _, t in ops])
            names = [name for name, _ in ops]
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
        report.notes += _target_notes(target)
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


def _open(target: str, model: bytes, board: str | None, timeout: float):
    from tinyflow.targets import open_target

    return open_target(target, model=model, board=board, timeout=timeout)


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
