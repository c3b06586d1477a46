"""`tinyflow inspect`: analysis + TFLM op support + measured arena (or the compiler's plan) +
the fit on a board, as one InspectReport (str() = tables, to_dict() = --json).

    from tinyflow.inspection import inspect_model
    r = inspect_model("person_detect.tflite", board="nano33ble")   # runtime="tflm", arena=True
    r.arena.arena_bytes, r.fit.verdict, r.fit.ram_headroom
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tinyflow.analysis import ModelAnalysis, analyze
from tinyflow.boards import FitReport, fit_model, load_board
from tinyflow.errors import UsageError
from tinyflow.escaping import terminal_text
from tinyflow.export.platformio import tflm_library
from tinyflow.report import fmt_bytes, jsonable, table
from tinyflow.runtimes import tflm
from tinyflow.tflite import read_model

RUNTIMES = ("tflm", "aot")


@dataclass
class InspectReport:
    """Everything `tinyflow inspect` says about one model."""

    source: str
    analysis: ModelAnalysis
    runtime: str
    unsupported_ops: list[str]
    arena: tflm.ArenaMeasurement | None = None
    aot_memory: dict | None = None  # the compiler's memory report (--runtime aot)
    fit: FitReport | None = None
    library_issues: list[str] = field(default_factory=list)  # what the firmware's TFLM library would get wrong
    show_tensors: bool = False  # str() lists every op and tensor (`inspect --tensors`); JSON always does

    @property
    def ram_for_runtime(self) -> int | None:
        """The model's RAM under the chosen runtime: TFLM arena or the compiler's planned bytes."""
        if self.runtime == "tflm":
            return self.arena.arena_bytes if self.arena else None
        return (self.aot_memory or {}).get("ram_bytes")

    def to_dict(self) -> dict:
        d = {
            "model": self.source,
            **self.analysis.to_dict(),
            "runtime": self.runtime,
            "tflm": {
                "build": tflm.TFLM_BUILD,
                "unsupported_ops": self.unsupported_ops,
                "library_issues": self.library_issues,
            },
            "arena": self.arena.to_dict() if self.arena else None,
            "fit": self.fit.to_dict() if self.fit else None,
            "activation_timeline": activation_timeline(self.analysis.model),
        }
        if self.runtime == "aot":
            d["aot"] = {"memory": self.aot_memory}
        return jsonable(d)

    def __str__(self) -> str:
        """Verdict and budget first, then I/O and ops; per-op and tensor tables only with `show_tensors`."""
        m = self.analysis.model
        # Names, the description and the file name are untrusted text: shown through terminal_text.
        lines = [
            f"{terminal_text(self.source)}: {len(m.data):,} bytes, sha256 {m.sha256[:16]}",
            *([f"description: {terminal_text(m.description, 200)}"] if m.description else []),
        ]
        if self.fit:
            lines += ["", str(self.fit)]
        lines += ["", *self._budget_lines(), "", *self._io_lines(), "", self._op_summary()]
        if self.show_tensors:
            lines += ["", *self._tensor_tables()]
        else:
            lines += ["", f"{len(m.tensors)} tensors, {len(self.analysis.ops)} ops: the tables with --tensors"]
        return "\n".join(lines)

    def _budget_lines(self) -> list[str]:
        """What the model costs and whether TFLM can run it: the numbers a verdict rests on."""
        a = self.analysis
        lines = [
            f"params {a.params:,}   weights {fmt_bytes(a.weight_bytes)}   MACs {a.macs:,}"
            f"   activations (sum) {fmt_bytes(a.activation_bytes)}",
            *self._memory_lines(),
            "TFLM op support: "
            + (
                "all ops supported"
                if not self.unsupported_ops
                else "NOT supported: " + ", ".join(map(terminal_text, self.unsupported_ops))
            ),
        ]
        return lines + [
            f"TFLM firmware library: {terminal_text(issue)} (`firmware generate --runtime tflm` refuses it)"
            for issue in self.library_issues
        ]

    def _io_lines(self) -> list[str]:
        m = self.analysis.model
        io = [
            [kind, t.name[:40], "x".join(map(str, t.shape)), t.type_name.lower(), _scale(t), _zp(t)]
            for kind, ids in (("input", m.inputs), ("output", m.outputs))
            for t in (m.tensors[i] for i in ids)
        ]
        lines = [table(["", "tensor", "shape", "dtype", "scale", "zero point"], io)]
        dynamic = [
            terminal_text(m.tensors[i].name, 80) for i in (*m.inputs, *m.outputs) if -1 in m.tensors[i].shape_signature
        ]
        if dynamic:
            lines.append(f"note: {', '.join(dynamic)} declare a dynamic dimension (-1); TFLM uses the stored shape")
        return lines

    def _op_summary(self) -> str:
        a = self.analysis
        macs_by: dict[str, int] = {}
        for o in a.ops:
            macs_by[o.name] = macs_by.get(o.name, 0) + o.macs
        return table(
            ["op", "count", "MACs"],
            [[k, v, macs_by[k]] for k, v in a.op_counts.items()],
            title=f"Ops ({len(a.ops)} in execution order)",
        )

    def _tensor_tables(self) -> list[str]:
        a, m = self.analysis, self.analysis.model
        rows = [
            [
                o.index,
                o.name,
                " ".join("x".join(map(str, s)) for s in o.inputs),
                "x".join(map(str, o.output)),
                o.macs,
                o.params,
            ]
            for o in a.ops
        ]
        tensors = [
            [
                t.index,
                t.name[:48],
                "x".join(map(str, t.shape)) or "scalar",
                t.type_name.lower(),
                _scale(t),
                _zp(t),
                "const" if t.is_constant else ("var" if t.is_variable else ""),
                t.nbytes,
            ]
            for t in m.tensors
        ]
        return [
            table(["#", "op", "input", "output", "MACs", "params"], rows, title="Per op"),
            "",
            table(["#", "name", "shape", "dtype", "scale", "zp", "kind", "bytes"], tensors, title="Tensors"),
        ]

    def _memory_lines(self) -> list[str]:
        if self.runtime == "tflm":
            if self.arena is None:
                return ["TFLM arena: not measured (--no-arena)"]
            ar = self.arena
            return [
                f"TFLM arena: {fmt_bytes(ar.arena_bytes)} measured (smallest that loads and invokes, "
                f"{ar.probes} probes{', cached' if ar.cached else ''}; TFLM's tally {ar.recorded_bytes:,} B: "
                f"head {ar.head_bytes:,} + tail {ar.tail_bytes:,})"
            ]
        figures = {k: v for k, v in self.aot_memory.items() if k.endswith("_bytes") and k != "ram_bytes"}
        parts = ", ".join(
            f"{k[: -len('_bytes')].replace('_', ' ')} {fmt_bytes(v, kib=False)}"
            for k, v in figures.items()
            if isinstance(v, int)
        )
        how = "planned" if self.aot_memory.get("static_ram_bytes") is None else "arena + kernel scratch"
        return [f"Compiled (aot) memory: RAM {fmt_bytes(self.aot_memory['ram_bytes'])} {how} ({parts})"]


def activation_timeline(m) -> list[int]:
    """Bytes of activation tensors alive while each op runs (execution order).

    A tensor lives from the op that writes it (model inputs: the first op) to the last op that
    reads it (model outputs and variable state: the last op). No static plan can hold less than
    the peak; the gap to the planned arena is what fragmentation and alignment cost.
    """
    end = len(m.ops) - 1
    first = {t: 0 for t in m.inputs}
    last = {t: end for t in m.outputs}
    for step, op in enumerate(m.ops):
        for t in op.outputs:
            first.setdefault(t, step)
        for t in op.inputs:
            if t >= 0:
                first.setdefault(t, 0)  # read before any op writes it: an input or variable state
                last[t] = max(last.get(t, step), step)
    live = [0] * len(m.ops)
    for t, start in first.items():
        tensor = m.tensors[t]
        if tensor.is_constant:
            continue
        stop = end if tensor.is_variable else last.get(t, start)
        for step in range(start, stop + 1):
            live[step] += tensor.nbytes
    return live


def _scale(t) -> str:
    if len(t.scale) == 0:
        return ""
    return f"{t.scale[0]:.4g}" if len(t.scale) == 1 else f"per-channel({len(t.scale)})"


def _zp(t) -> str:
    if len(t.zero_point) == 0:
        return ""
    return str(int(t.zero_point[0])) if len(set(t.zero_point.tolist())) == 1 else f"per-channel({len(t.zero_point)})"


def inspect_model(model, board: str | None = None, runtime: str = "tflm", arena: bool = True) -> InspectReport:
    """Inspect a .tflite (path or bytes): see the module docstring.

    Raises:
        ModelError: unreadable model; ops TFLM cannot run when the arena or a tflm fit is asked for.
        BoardError: unknown board. UsageError: bad runtime, or --board with --no-arena for tflm.
    """
    if runtime not in RUNTIMES:
        raise UsageError(f"Unknown runtime {runtime!r}", f"Use one of: {', '.join(RUNTIMES)}.")
    source = Path(model).name if isinstance(model, (str, Path)) else "model bytes"
    m = read_model(model)
    b = load_board(board) if board else None
    report = InspectReport(
        source=source,
        analysis=analyze(m),
        runtime=runtime,
        unsupported_ops=tflm.unsupported_ops(m),
        library_issues=tflm_library.incompatibilities(m),
    )
    if runtime == "tflm":
        if b is not None and not arena:
            raise UsageError(
                "--board with --runtime tflm needs the measured arena, but --no-arena was given",
                "Drop --no-arena (measurements are cached), or drop --board.",
            )
        if arena:
            tflm.check_supported(m)  # names the ops before anyone builds firmware
            report.arena = tflm.measure_arena(m)
    else:
        report.aot_memory = _aot_memory(m.data, measure_tflm=bool(arena), board=b)
    if b is not None:
        report.fit = _fit(report, b, _frontend_footprint(model, m))
    return report


def _frontend_footprint(model, m):
    """The sidecar's front end (firmware generate links it, so the fit counts it), or None."""
    from tinyflow.export.frontend_tables import frontend_footprint
    from tinyflow.frontends import read_sidecar

    config = read_sidecar(model) if isinstance(model, (str, Path)) else None
    if config is None:
        return None  # before touching the inputs: a hostile model may have none
    if not m.inputs:
        from tinyflow.errors import ModelError

        raise ModelError(
            f"The model has no input for its {config.name} front end to feed",
            "Remove the .frontend.json beside it, or give a model that takes the front end's features.",
        )
    return frontend_footprint(config, m.tensors[m.inputs[0]])


def _aot_memory(data: bytes, measure_tflm: bool = True, board=None) -> dict:
    """The compiler's memory report as a dict; `ram_bytes` is the RAM it needs beyond the stack:
    the measured Cortex-M4 static RAM (arena + kernel scratch), or the planned arena when no arm
    toolchain measured it (never the TFLM arena the report carries for comparison). With a board,
    the DSP tables are those firmware generate makes for it (compile.context.board_table_flash)."""
    from tinyflow.compile import compile_model
    from tinyflow.compile.context import board_table_flash
    from tinyflow.export.compiled_c import measure_memory
    from tinyflow.runtimes.tflm import measure_arena

    arena = measure_arena(data).arena_bytes if measure_tflm else None
    model = data if board is None else compile_model(data, table_flash=board_table_flash(board))
    d = measure_memory(model, tflm_arena_bytes=arena).to_dict()
    total = d.get("static_ram_bytes")
    return {**d, "ram_bytes": d["activation_bytes"] if total is None else total}


def _fit(report: InspectReport, board, frontend=None) -> FitReport:
    """The board fit through boards.fit_model, with the figures firmware generate uses, so the
    verdict here is the one `firmware generate` acts on (tflm: measured arena + margin; aot: the
    compiled weights and planned activations; the board's runtime estimate adds kernels and core)."""
    ram = int(report.ram_for_runtime)  # inspect_model measured it: --board needs the arena
    if report.runtime == "tflm":
        return fit_model(board, "tflm", model_flash=len(report.analysis.model.data), ram=ram, frontend=frontend)
    # The DSP kernels' tables are compiled only on a core with the extension (CompiledModel.flash_constants).
    weights = int(report.aot_memory["weights_bytes"]) - (
        0 if board.dsp else int(report.aot_memory.get("dsp_weights_bytes", 0))
    )
    # The planned arena, as firmware generate fits it: the kernels' measured scratch in ram_bytes is
    # part of the board's aot runtime estimate, which fit_model adds (counting it twice would differ).
    arena = int(report.aot_memory["activation_bytes"])
    return fit_model(board, "aot", model_flash=weights, ram=arena, flash_label="weights", frontend=frontend)
