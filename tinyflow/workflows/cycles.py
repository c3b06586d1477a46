"""Estimated Cortex-M4 cycles for an inference on sim://qemu-m4: run the emulator with the
instruction-mix plugin and apply the timing model (tinyflow.targets.machines.cycles).

    session = attach_mix(port)        # before the first exchange: restarts QEMU with the plugin
    ... run inferences ...
    estimate = session.finish()       # CycleEstimate: per op and per function, cycles and CPI

The plugin is C built once with the host compiler into the build cache (tinyflow.build.cc), the
way host firmware is. The firmware times op k by reading the ticks after it and storing the
difference into op_ticks[k] (codegen; a patch-based stage does it once per band); a segment the
plugin closes at such a read is op k's, so the per-op cycles come from exactly the instructions the
per-op tick counts measure.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tinyflow.targets.machines import cycles

INVOKE = "tinyflow_model_invoke"
TICKS = "tinyflow_hal_ticks"
MIX_MAX_BYTES = 512 << 20  # a record file beyond this is not read (a runaway firmware)


def plugin_path() -> Path:
    """The instruction-mix plugin (a shared object), built on first use and cached.

    Raises:
        ToolchainError: no host C compiler, the build failed, or the source is not installed.
    """
    from tinyflow.build.cc import CBuild, build_executable
    from tinyflow.errors import ToolchainError

    if not cycles.PLUGIN_SOURCE.is_file():
        raise ToolchainError(
            f"The QEMU plugin source {cycles.PLUGIN_SOURCE} is missing from this installation",
            "Reinstall tinyflow; the cycle estimate needs it (instruction counts do not).",
        )
    flags = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared", "-fvisibility=hidden"]
    return build_executable(CBuild(sources=[cycles.PLUGIN_SOURCE], cflags=flags), "insn_mix.so")


@dataclass
class FunctionCycles:
    """One function of the firmware: instructions, estimated cycles, CPI (all inferences summed)."""

    name: str
    instructions: int
    cycles: int

    @property
    def cpi(self) -> float:
        return self.cycles / self.instructions if self.instructions else 0.0

    def to_dict(self) -> dict:
        return {"name": self.name, "instructions": self.instructions, "cycles": self.cycles, "cpi": self.cpi}


@dataclass
class CycleEstimate:
    """The timing model applied to what the plugin recorded.

    op_tallies[k] is op k's Tally summed over every inference run with the plugin attached
    (op k of the compiled model; None when the firmware's op boundaries could not be found)."""

    op_tallies: list | None
    functions: list[FunctionCycles] = field(default_factory=list)
    by_class: dict = field(default_factory=dict)  # timing class -> [instructions, cycles], inside ops

    @property
    def cpi(self) -> float:
        """Cycles per instruction over every op of every inference."""
        tallies = self.op_tallies or []
        n = sum(t.instructions for t in tallies)
        return sum(t.cycles for t in tallies) / n if n else 0.0


class MixSession:
    """The plugin attached to one QEMU port; finish() reads and removes its record file."""

    def __init__(self, port, reads: list[tuple[int, int | None]], folder: str):
        self.port, self.reads, self.folder = port, reads, folder
        self.out = Path(folder) / "mix.txt"

    def finish(self) -> CycleEstimate:
        """Stop the emulator (its records are flushed at every op boundary) and apply the model."""
        try:
            self.port.close()
            from tinyflow.errors import LinkError
            from tinyflow.inputs import read_regular

            text = read_regular(self.out, "The instruction-mix record", MIX_MAX_BYTES, LinkError).decode()
            return estimate(text, self.port.elf, self.reads)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def attach_mix(port) -> MixSession | None:
    """Restart a fresh QEMU port with the plugin; None when the port is not an emulated Cortex-M4
    with a known ELF. Call before the first exchange with the device.

    Raises:
        ToolchainError: the plugin could not be built.
    """
    elf = getattr(port, "elf", None)
    if elf is None or not hasattr(port, "restart_with") or getattr(port.machine, "core", "") != "cortex-m4":
        return None
    so = plugin_path()
    reads = cycles.tick_reads(Path(elf), INVOKE, TICKS)
    folder = tempfile.mkdtemp(prefix="tinyflow-mix-")
    # QEMU splits -plugin's value on commas; paths with one cannot be passed.
    if "," in str(so) or "," in folder:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    arg = f"{so},out={folder}/mix.txt" + "".join(f",mark={m:#x}" for m, _ in reads)
    port.restart_with(("-plugin", arg))
    return MixSession(port, reads, folder)


def estimate(text: str, elf: Path, reads: list[tuple[int, int | None]]) -> CycleEstimate:
    """Apply the timing model to a record file: a segment closed by the tick read of op k (reads[i]
    = (address, k), mark i) is op k's; the rest (the link, between inferences) is left out."""
    mix = cycles.read_mix(text, cycles.function_symbols(Path(elf)))
    op_of = {i: k for i, (_, k) in enumerate(reads) if k is not None}
    if not op_of:
        return CycleEstimate(op_tallies=None)
    ops = [cycles.Tally() for _ in range(max(op_of.values()) + 1)]
    by_class: dict = {}
    totals: dict[str, list[int]] = {}
    for (opened, closed), tally in mix.segments.items():
        if closed not in op_of:
            continue
        op = ops[op_of[closed]]
        for kind, (n, c) in tally.by_class.items():
            op.add(kind, n, c)
            _accumulate(by_class, kind, n, c)
        for name, t in mix.functions.get((opened, closed), {}).items():
            _accumulate(totals, name, t.instructions, t.cycles)
    funcs = sorted((FunctionCycles(name, n, c) for name, (n, c) in totals.items()), key=lambda f: -f.cycles)
    return CycleEstimate(op_tallies=ops, functions=funcs, by_class=by_class)


def _accumulate(table: dict, key: str, n: int, c: int) -> None:
    row = table.setdefault(key, [0, 0])
    row[0] += n
    row[1] += c


def attach_profile_mix(port):
    """The instruction-mix plugin on a sim://qemu-m4 port (None elsewhere), and why it is missing."""
    from tinyflow.errors import ToolchainError

    try:
        return attach_mix(port), []
    except ToolchainError as exc:
        return None, [f"no cycle estimate: the QEMU plugin could not be built ({exc})"]


def apply_cycles(report, estimate: CycleEstimate, runs: int) -> None:
    """Add the estimate of `runs` inferences to a profile.ProfileReport: per op, its exact
    instructions x the CPI of its own instructions; for the whole inference, its instructions x
    the CPI over all ops."""
    tallies = estimate.op_tallies or []
    offset = len(report.ops) - len(tallies)  # a front end runs before the model as row 0
    mapped = bool(tallies) and offset in (0, 1) and _same_counts(report.ops[offset:], tallies, runs)
    if mapped:
        for op, tally in zip(report.ops[offset:], tallies):
            op.cycles = round(op.instructions * (tally.cpi or 1.0))
    else:
        report.notes.append("cycles per op not shown: the firmware's op boundaries did not match its op timings")
    if estimate.cpi:
        report.estimated_cpi = estimate.cpi
        report.estimated_cycles = round(report.instructions * estimate.cpi)
    report.cycle_functions = [f.to_dict() for f in estimate.functions[:10]]
    report.cycle_classes = {k: {"instructions": n, "cycles": c} for k, (n, c) in sorted(estimate.by_class.items())}


def _same_counts(ops: list, tallies: list, runs: int) -> bool:
    """Whether the plugin's per-op instructions are the device's (a few apart: where in the tick
    read the timer is sampled), so that segment k is op k."""
    return all(
        op.instructions is not None
        and abs(t.instructions / max(runs, 1) - op.instructions) <= 16 + op.instructions // 1000
        for op, t in zip(ops, tallies)
    )
