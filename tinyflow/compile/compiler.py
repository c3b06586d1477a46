"""compile_model: an int8 .tflite model to standalone C (the compiled, "aot" runtime).

Steps: read and validate the model, fold constant shape ops, lower each op through the
registry (tinyflow.compile.ops), plan the activation arena from tensor lifetimes, render C.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyflow.compile.codegen import OpCall, api_header, render_model_c
from tinyflow.compile.dilate import prepare_dilated
from tinyflow.compile.fold import fold_constants
from tinyflow.compile.ops import Lowered, lowering_for
from tinyflow.compile.ops.checks import check_arity, check_options
from tinyflow.compile.patch_plan import Planning, RecordingContext
from tinyflow.compile.planner import MemoryPlan, plan_memory
from tinyflow.compile.quant import REFERENCES
from tinyflow.errors import ModelError, UsageError
from tinyflow.escaping import c_identifier
from tinyflow.tflite.device_io import check_device_io

# Far above microcontroller models (the corpus peaks at 31 ops), low enough that hostile graphs
# cannot make the planner's quadratic placement stall a compile.
MAX_OPS = 1024
MAX_ACTIVATIONS = 1024
_HINT = "The model is malformed; re-export it from the converter, or use --runtime tflm."
# Helper kernels a kernel's .c file calls into (their headers are included by the kernel itself).
_KERNEL_DEPS = {"softmax": ("fixedpoint",), "logistic": ("fixedpoint",), "tanh": ("fixedpoint",)}


@dataclass
class CompiledModel:
    """The C sources of one compiled model and what was decided to make them."""

    name: str  # a C identifier made from the model name (tinyflow.escaping): safe in file and build names
    model: object
    sources: dict[str, str]
    plan: MemoryPlan
    op_names: list[str]
    kernels: tuple[str, ...]
    const_bytes: int
    lowered: list[Lowered] = field(default_factory=list)
    # The front end the firmware runs before the model, and the -D its generated sources need
    # (tinyflow.export.frontend_tables.with_frontend); builds apply `defines`.
    frontend: object = None
    defines: dict[str, int] = field(default_factory=dict)
    # Patch-based stages (tinyflow.compile.patch_plan.Stage) and their schedules (compile.patches).
    stages: list = field(default_factory=list)
    schedules: list = field(default_factory=list)
    # The tensors each op of op_names writes (TF_TRACE(k) in debug builds: tinyflow.runtimes.intermediates).
    op_outputs: list[tuple[int, ...]] = field(default_factory=list)
    dsp_const_bytes: int = 0  # of const_bytes: the DSP-guarded kernel tables (compile.context)
    # Bytes of the streamed input's ring (tinyflow.compile.stream); 0: the input is a whole buffer.
    stream_ring: int = 0

    def flash_constants(self, dsp: bool = True) -> int:
        """Bytes of constants in flash on a core with (dsp) or without the DSP extension."""
        return self.const_bytes - (0 if dsp else self.dsp_const_bytes)

    def kernel_sources(self, variant: str | None = None) -> list[Path]:
        """firmware/kernels/ .c files the model needs (compile them with firmware/include on the path):
        the portable C, or a core's variants (tinyflow.compile.kernels, the one place that picks)."""
        from tinyflow.compile.kernels import kernel_sources

        return kernel_sources(list(self.kernels), variant)

    def write(self, directory: str | os.PathLike) -> list[Path]:
        """Write the generated sources into `directory` (each file atomically); returns their paths."""
        from tinyflow.outputs import atomic_write, inside

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for fname, text in self.sources.items():
            path = inside(out, fname)
            atomic_write(path, text.encode())
            paths.append(path)
        return paths


def _read(model):
    from tinyflow.tflite import TfliteModel, read_model

    if isinstance(model, TfliteModel):
        return model
    if isinstance(model, (bytes, bytearray, memoryview, str, os.PathLike)):
        return read_model(model)
    raise UsageError(
        f"compile_model takes .tflite bytes, a path or a TfliteModel, got {type(model).__name__}",
        "Pass the model file's bytes.",
    )


def _check_graph(model, ops, values) -> None:
    """Each activation is produced once, before use; inputs/outputs are activations."""
    produced = set(model.inputs)
    # Variable tensors (SVDF state) are live from init onwards; codegen fills them with their zero point.
    produced |= {t.index for t in model.tensors if t.is_variable}
    for i in model.inputs:
        if i in values:
            raise ModelError(f"Model input {model.tensors[i].name} is a constant", _HINT)
    for op in ops:
        for i in op.inputs:
            if i >= 0 and i not in values and i not in produced:
                t = model.tensors[i]
                what = "a variable (state) tensor" if t.is_variable else "a tensor no earlier op produces"
                raise ModelError(
                    f"Op {op.index} ({op.name}) reads {what}: {t.name}",
                    "Use --runtime tflm for this model." if t.is_variable else _HINT,
                )
        for o in op.outputs:
            if o in produced or o in values:
                raise ModelError(
                    f"Op {op.index} ({op.name}) writes tensor {model.tensors[o].name}, "
                    "which is already an input or produced by an earlier op",
                    _HINT,
                )
            produced.add(o)
    for o in model.outputs:
        if o not in produced:
            raise ModelError(f"Model output {model.tensors[o].name} is not computed by any op", _HINT)
    if not ops:
        raise ModelError("The model has no ops left to run after constant folding", _HINT)


def _lifetimes(model, ops, values, preserve_inputs: bool = False) -> tuple[dict[int, int], dict[int, tuple[int, int]]]:
    """Sizes and [first, last] op steps of every activation tensor."""
    last_step = len(ops) - 1
    life: dict[int, list[int]] = {i: [0, 0] for i in model.inputs}
    # A variable tensor spans every step, so no other tensor shares its bytes and it keeps its
    # value from one invoke to the next (TFLM's persistent state).
    life.update({t.index: [0, last_step] for t in model.tensors if t.is_variable and t.data is None})
    for step, op in enumerate(ops):
        for o in op.outputs:
            life.setdefault(o, [step, step])
        for i in op.inputs:
            if i >= 0 and i not in values:
                life[i][1] = max(life[i][1], step)
    for o in model.outputs:
        life[o][1] = last_step
    if preserve_inputs:
        for i in model.inputs:
            life[i][1] = last_step
    sizes = {t: max(int(model.tensors[t].nbytes), 1) for t in life}
    return sizes, {t: (a, b) for t, (a, b) in life.items()}


def compile_model(
    model,
    name: str = "model",
    preserve_inputs: bool = False,
    reference: str = "wheel",
    namespace: bool = False,
    shared_arena: str | None = None,
    max_ram: int | None = None,
    patches=None,
    table_flash: int | None = None,
    stream_input: str = "auto",
) -> CompiledModel:
    """Compile an int8 .tflite model (bytes, path or TfliteModel) to C.

    Args:
        preserve_inputs: keep the input buffers intact through an invoke (more RAM), for
            harnesses that load an input once and invoke repeatedly (EEMBC `infer N`). By
            default, like TFLM's planner, input memory is reused once the input is consumed.
        reference: "wheel" (the tflite_micro reference tinyflow checks against on the host) or
            "release" (released TFLM, as TFLM firmware computes): see compile.quant.REFERENCES.
        namespace: name the model.h functions <name>_model_* (declared in <name>_model.h, also in
            sources) instead of tinyflow_model_*, so several models link into one program.
        shared_arena: a C identifier: use the application's arena of that name
            (TINYFLOW_DEFINE_ARENA) instead of a static one, for models that run one at a time.
        max_ram: an arena budget in bytes: run the early spatial layers patch by patch
            (tinyflow.compile.patches) with the fewest extra instructions that meets it; None
            (default): no patches unless `patches` names them.
        patches: explicit stages, (first op, last op, band rows) each (steps of the compiled
            op list), instead of choosing them from max_ram.
        table_flash: bytes of flash the model's constants and DSP kernel tables may take together
            on the target board (tinyflow.compile.context.board_table_flash); None: the default
            DSP_TABLE_FLASH_BYTES (fits every DSP board in boards/).
        stream_input: "auto" (default): when max_ram cannot be met with the input held whole, a
            first stage reading it takes it row by row through tinyflow_model_input_rows
            (tinyflow.compile.stream; info->input_rows set, tinyflow_model_input returns NULL);
            "on": stream whenever a stage starts at the input; "off": never.

    Raises:
        ModelError: an op is not supported (naming it), the model is malformed, or max_ram
            cannot be met (saying the smallest arena patches reach).
        UsageError: max_ram below 1, or `patches` that cannot run band by band.
    """
    m = _read(model)
    check_device_io(m, max_tensors=None)  # I/O model.h can describe; the 16-tensor core limit is firmware's
    values = {t.index: np.asarray(t.data) for t in m.tensors if t.data is not None}
    for op in m.ops:  # arity and options once, before folding or lowering reads them (see compile.ops)
        check_arity(op)
        check_options(op)
    ops = fold_constants(m, values)
    m, ops = prepare_dilated(m, ops, values)  # real batches, and SPACE_TO_BATCH_ND + conv fused where exact
    if len(ops) > MAX_OPS:
        raise ModelError(
            f"The model has {len(ops)} ops; the compiled runtime takes at most {MAX_OPS}",
            "Use --runtime tflm for this model.",
        )
    for op in ops:  # every unsupported op is reported before any lowering work
        lowering_for(op.name)
    _check_graph(m, ops, values)
    if reference not in REFERENCES:
        raise UsageError(f"Unknown reference {reference!r}", f"Use one of: {', '.join(REFERENCES)}.")
    if shared_arena is not None and c_identifier(shared_arena) != shared_arena:
        raise UsageError(
            f"The shared arena name {shared_arena!r} is not a C identifier",
            "Use letters, digits and single underscores, starting with a letter.",
        )
    if max_ram is not None and (isinstance(max_ram, bool) or not isinstance(max_ram, int) or max_ram < 1):
        raise UsageError(f"max_ram must be a positive number of bytes, got {max_ram!r}", "Give the budget in bytes.")
    ctx = RecordingContext(m, values, reference, table_flash=table_flash)
    lowered = []
    for op in ops:
        ctx.op = op
        lowered.append(lowering_for(op.name)(op, ctx))
    ctx.op = None
    ctx.recording = False
    sizes, lifetimes = _lifetimes(m, ops, values, preserve_inputs)
    if len(sizes) > MAX_ACTIVATIONS:
        raise ModelError(
            f"The model has {len(sizes)} activation tensors; the compiled runtime plans at most {MAX_ACTIVATIONS}",
            "Use --runtime tflm for this model.",
        )
    aliases = [(op.inputs[0], op.outputs[0]) for op, lw in zip(ops, lowered) if lw.alias]
    # Model outputs and state must survive the invoke, so no op writes over them in place.
    keep = _alias_closure(
        set(m.outputs) | {t.index for t in m.tensors if t.is_variable} | (set(m.inputs) if preserve_inputs else set()),
        aliases,
    )
    inplace = [
        (op.inputs[a], op.outputs[b])
        for op, lw in zip(ops, lowered)
        for a, b in lw.inplace
        if op.inputs[a] >= 0 and op.inputs[a] not in values and op.inputs[a] not in keep
    ]
    overlaps = [
        (op.inputs[0], op.outputs[0], lw.overlap)
        for op, lw in zip(ops, lowered)
        if lw.overlap is not None and op.inputs[0] not in keep
    ]
    calls = [OpCall(op.name, lw.call) for op, lw in zip(ops, lowered)]
    planning = Planning(sizes, lifetimes, aliases, inplace, overlaps, keep)
    stages, schedules = [], []
    if max_ram is not None or patches:
        from tinyflow.compile.patch_search import budget_error, plan_patches

        api_name = f"{c_identifier(name)}_model" if namespace else None
        stages, planning, calls, schedules = plan_patches(
            m, ops, lowered, ctx, calls, planning, max_ram, patches, stream_input, preserve_inputs, api_name
        )
    plan = plan_memory(planning.sizes, planning.lifetimes, planning.aliases, planning.inplace, planning.overlaps)
    if max_ram is not None and plan.arena_bytes > max_ram:
        raise budget_error(max_ram, plan.arena_bytes, m)
    kernels = sorted({k for lw in lowered for k in lw.kernels})
    kernels = tuple(sorted(set(kernels) | {d for k in kernels for d in _KERNEL_DEPS.get(k, ())}))
    ident = c_identifier(name)
    api = f"{ident}_model" if namespace else None
    streamed = ctx.stream_ring > 0
    sources = {
        f"{ident}.c": render_model_c(
            m, name, calls, list(kernels), ctx.decls, plan.offsets, plan.arena_bytes, api, shared_arena, streamed
        )
    }
    if api:
        sources[f"{api}.h"] = api_header(api, name, plan.arena_bytes, streamed)
    return CompiledModel(
        name=ident,
        model=m,
        sources=sources,
        plan=plan,
        op_names=[op.name for op in ops],
        kernels=kernels,
        const_bytes=ctx.const_bytes,
        dsp_const_bytes=ctx.dsp_const_bytes,
        lowered=lowered,
        defines=monitor_defines(m),
        stages=stages,
        schedules=schedules,
        op_outputs=[tuple(op.outputs) for op in ops],
        stream_ring=ctx.stream_ring,
    )


def monitor_defines(m) -> dict[str, int]:
    """The firmware monitor's sizes for this model (firmware/src/monitor.c keeps static statistics
    per feature column, input 0's last axis, and per class, output 0's values; at most 64 and 32):
    a small board does not pay for columns its model does not have."""
    if not m.inputs or not m.outputs:
        return {}
    shape_in, shape_out = m.tensors[m.inputs[0]].shape, m.tensors[m.outputs[0]].shape
    columns = int(shape_in[-1]) if len(shape_in) else 1
    classes = int(np.prod(shape_out)) if len(shape_out) else 1
    return {"TINYFLOW_MONITOR_COLUMNS": max(1, min(64, columns)), "TINYFLOW_MONITOR_CLASSES": max(1, min(32, classes))}


def _alias_closure(tensors: set[int], aliases: list[tuple[int, int]]) -> set[int]:
    """`tensors` plus every tensor sharing memory with one of them through RESHAPE-like aliases."""
    out = set(tensors)
    changed = True
    while changed:  # at most len(aliases) rounds
        changed = False
        for a, b in aliases:
            if (a in out) != (b in out):
                out |= {a, b}
                changed = True
    return out


__all__ = ["CompiledModel", "compile_model"]
