"""Patch-based stages applied to a lowered model: which ops can run band by band, the C of a stage,
and what the memory planner sees instead of the stage's intermediate tensors.

A stage's ops keep their lowered kernel calls; each band call is the same call with a band copy of
its params struct (input_h, output_h, pad_h) and pointers moved to the band's rows (text substitution
of the `&p` struct and `TF_T<i>` tokens the lowering emitted), so the kernels need no change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tinyflow.compile.codegen import OpCall
from tinyflow.compile.context import LowerContext
from tinyflow.compile.patches import Call, Layer, Schedule, schedule
from tinyflow.errors import UsageError

SPATIAL = ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D")
# The params structs whose H geometry a band call rewrites (firmware/include/tinyflow/kernels/).
BANDED_STRUCTS = ("tinyflow_conv_params_t", "tinyflow_dwconv_params_t", "tinyflow_pool_params_t")
_GEOMETRY = ("batches", "input_h", "output_h", "stride_h", "pad_h", "filter_h")

SHIFT_HELPER = """/* Patch-based inference: moves the rows a band buffer keeps to its start (dst < src, so a
 * forward copy is safe). Buffers are 4-byte aligned in the arena; whole words when sizes allow. */
static void tf_shift_rows(uint8_t *buf, uint32_t from, uint32_t bytes) {
  uint32_t k;
  if (((from | bytes) & 3u) == 0u) {
    uint32_t *d = (uint32_t *)(void *)buf;
    const uint32_t *s = (const uint32_t *)(const void *)(buf + from);
    for (k = 0; k < bytes / 4u; ++k) d[k] = s[k];
  } else {
    for (k = 0; k < bytes; ++k) buf[k] = buf[from + k];
  }
}"""


class RecordingContext(LowerContext):
    """A LowerContext that remembers each op's params structs, so a stage can emit band copies."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.structs: dict[int, list[tuple[str, object, dict]]] = {}
        self.recording = True  # off once lowering is done: band copies are not an op's own params
        self.stream_ring = 0  # bytes of the streamed input's ring (tinyflow.compile.stream); 0: not streamed

    def struct(self, cstruct, params: dict, stem: str = "p") -> str:
        sym = super().struct(cstruct, params, stem)
        if self.recording and self.op is not None:
            self.structs.setdefault(self.op.index, []).append((sym, cstruct, dict(params)))
        return sym


@dataclass(frozen=True)
class Stage:
    """Ops [first, last] (steps of the compiled op list) run in bands of `band_rows` output rows."""

    first: int
    last: int
    band_rows: int


@dataclass
class Planning:
    """The memory planner's inputs (tinyflow.compile.planner.plan_memory)."""

    sizes: dict[int, int]
    lifetimes: dict[int, tuple[int, int]]
    aliases: list
    inplace: list
    overlaps: list
    keep: set = field(default_factory=set)


@dataclass
class Chainable:
    """What a step needs to join a stage: its layer geometry, params struct and lowered call."""

    step: int
    op: object
    layer: Layer
    sym: str
    cstruct: object
    params: dict
    call: str
    tin: int
    tout: int


def chainable_steps(model, ops, lowered, ctx: RecordingContext) -> dict[int, Chainable]:
    """Steps whose op can run on a band of rows: a spatial op on one batch whose call passes one
    banded params struct and its input and output once each."""
    out = {}
    for step, (op, lw) in enumerate(zip(ops, lowered)):
        recs = [r for r in ctx.structs.get(op.index, []) if r[1].name in BANDED_STRUCTS]
        if op.name not in SPATIAL or lw.alias or len(recs) != 1:
            continue
        sym, cstruct, params = recs[0]
        tin, tout = op.inputs[0], op.outputs[0]
        if any(k not in params for k in _GEOMETRY) or params["batches"] != 1 or tin in ctx.values:
            continue
        if len(re.findall(rf"&{sym}\b", lw.call)) != 1 or any(
            len(re.findall(rf"\bTF_T{t}\b", lw.call)) != 1 for t in (tin, tout)
        ):
            continue
        tin_t, tout_t = model.tensors[tin], model.tensors[tout]
        if tin_t.type_name != "INT8" or tout_t.type_name != "INT8" or len(tin_t.shape) != 4:
            continue
        layer = Layer(
            in_rows=int(params["input_h"]),
            out_rows=int(params["output_h"]),
            stride=int(params["stride_h"]),
            pad_top=int(params["pad_h"]),
            filter=int(params["filter_h"]),
            dilation=int(params.get("dilation_h", 1)),
            in_row_bytes=int(tin_t.nbytes) // int(params["input_h"]),
            out_row_bytes=int(tout_t.nbytes) // int(params["output_h"]),
        )
        out[step] = Chainable(step, op, layer, sym, cstruct, params, lw.call, tin, tout)
    return out


def chains(model, ops, steps: dict[int, Chainable], keep: set[int]) -> list[list[int]]:
    """Maximal runs of consecutive chainable steps where each output feeds only the next step."""
    consumers: dict[int, int] = {}
    for op in ops:
        for i in op.inputs:
            consumers[i] = consumers.get(i, 0) + 1
    runs: list[list[int]] = []
    for s in sorted(steps):
        prev = steps.get(s - 1)
        linked = (
            runs
            and runs[-1][-1] == s - 1
            and prev is not None
            and prev.tout == steps[s].tin
            and consumers.get(prev.tout) == 1
            and prev.tout not in keep
        )
        if linked:
            runs[-1].append(s)
        else:
            runs.append([s])
    return [r for r in runs if len(r) >= 2]


def check_stage(stage: Stage, steps: dict[int, Chainable], runs: list[list[int]]) -> list[Chainable]:
    """The chainable steps of `stage`, or UsageError saying why it cannot run in bands."""
    span = list(range(stage.first, stage.last + 1))
    if len(span) < 2 or stage.band_rows < 1 or not any(set(span) <= set(r) for r in runs):
        raise UsageError(
            f"Ops {stage.first}-{stage.last} (bands of {stage.band_rows} rows) cannot run patch by patch",
            "Give two or more consecutive CONV_2D/DEPTHWISE_CONV_2D/pooling ops whose outputs feed only "
            "the next one, and a band of one row or more.",
        )
    return [steps[s] for s in span]


def apply_stages(
    stages: list[Stage],
    steps,
    runs,
    ctx,
    calls: list[OpCall],
    planning: Planning,
    first_id: int,
    stream: int | None = None,
    api: str = "tinyflow_model",
):
    """Rewrite `calls` and `planning` (in place) for `stages`; returns their schedules.

    stream: the model input that may stream (tinyflow.compile.stream): a stage at step 0 reading it
    takes it row by row (ctx.stream_ring becomes the ring's bytes) through <api>_input_rows.
    """
    scheds = []
    used: set[int] = set()
    next_id = first_id
    for st in sorted(stages, key=lambda s: s.first):
        members = check_stage(st, steps, runs)
        if used & set(range(st.first, st.last + 1)):
            raise UsageError(f"Patch stages overlap at ops {st.first}-{st.last}", "Give disjoint stages.")
        used |= set(range(st.first, st.last + 1))
        sched = schedule([m.layer for m in members], st.band_rows)
        buffers = list(range(next_id, next_id + len(members) - 1))
        next_id += len(buffers)
        streamed = stream is not None and st.first == 0 and members[0].tin == stream
        if streamed:
            from tinyflow.compile.stream import replan_stream, ring_rows, stream_stage

            ring, next_id = next_id, next_id + 1
            lines = stream_stage(st, members, sched, buffers, ring, ctx, api)
            for m in members:
                _drop_decl(ctx, m)
        else:
            lines = _stage_code(st, members, sched, buffers, ctx)
        for k, m in enumerate(members):
            calls[m.step] = OpCall(calls[m.step].name, "", block=lines if k == 0 else [])
        _replan(planning, st, members, sched, buffers)
        if streamed:
            ctx.stream_ring = ring_rows(sched) * members[0].layer.in_row_bytes
            replan_stream(planning, stream, ring, ctx.stream_ring, st.first)
        scheds.append(sched)
    if any(c.shift for s in scheds for c in s.calls) and SHIFT_HELPER not in ctx.decls:
        ctx.decls.append(SHIFT_HELPER)
    return scheds


def _stage_code(st: Stage, members: list[Chainable], sched: Schedule, buffers: list[int], ctx) -> list[str]:
    """The C of a stage; runs of bands that differ only by where they sit in the whole input and
    output become one loop (flash: one call site per layer instead of one per band)."""
    lines = [
        f"  /* ops {st.first}-{st.last}: patch by patch, {sched.band_rows}-row bands of the output "
        f"(tinyflow.compile.patches) */",
        "  if (op_ticks != NULL) { " + " ".join(f"op_ticks[{m.step}] = 0u;" for m in members) + " }",
    ]
    emit = _Emitter(members, buffers, ctx)
    bands = _bands(sched.calls, len(members))
    for j, k, step in band_groups(bands, members):
        if step is not None:  # bands j..k: a loop
            lines.append(f"  for (uint32_t tf_band = 0; tf_band < {k - j + 1}u; ++tf_band) {{")
            lines += ["  " + ln for c in bands[j] for ln in emit.call(c, step)]
            lines.append("  }")
        else:
            lines += [ln for c in bands[j] for ln in emit.call(c)]
    # Only the stage's output exists whole: the debug trace (codegen's TF_TRACE) sees it after the
    # last band; the stage's intermediate tensors are never whole, so they are not traced.
    lines.append(f"  TF_TRACE({st.last});")
    for m in members:  # the whole-tensor params are not called any more (-Wunused would fail the build)
        _drop_decl(ctx, m)
    return lines


def band_groups(bands: list[list[Call]], members) -> list[tuple[int, int, tuple[int, int] | None]]:
    """(first band, last band, step) runs: bands j..k that differ only by where they sit in the whole
    input and output (step: their (input, output) bytes per band) become one loop; step None: band j alone."""
    out = []
    j = 0
    while j < len(bands):
        k = j + 1
        step = _delta(bands[j], bands[k], members) if k < len(bands) else None
        while step is not None and k + 1 < len(bands) and _delta(bands[k], bands[k + 1], members) == step:
            k += 1
        if step is not None and k - j >= 2:
            out.append((j, k, step))
            j = k + 1
        else:
            out.append((j, j, None))
            j += 1
    return out


def _bands(calls: list[Call], n: int) -> list[list[Call]]:
    """The calls grouped by band (each band ends with the last layer's call)."""
    out: list[list[Call]] = [[]]
    for c in calls:
        out[-1].append(c)
        if c.layer == n - 1:
            out.append([])
    return [b for b in out if b]


def _delta(a: list[Call], b: list[Call], members) -> tuple[int, int] | None:
    """(input, output) bytes band b sits after band a in the stage's whole tensors, if b is a with
    only those moved; else None."""
    n = len(members)
    if len(a) != len(b) or any(
        (x.layer, x.hi - x.lo, x.r1 - x.r0, x.shift, x.lo * members[x.layer].layer.stride - x.r0)
        != (y.layer, y.hi - y.lo, y.r1 - y.r0, y.shift, y.lo * members[y.layer].layer.stride - y.r0)
        or (x.layer > 0 and x.in_offset != y.in_offset)
        or (x.layer < n - 1 and x.out_offset != y.out_offset)
        for x, y in zip(a, b)
    ):
        return None
    d_in = {y.in_offset - x.in_offset for x, y in zip(a, b) if x.layer == 0}
    d_out = {y.out_offset - x.out_offset for x, y in zip(a, b) if x.layer == n - 1}
    if len(d_in) > 1 or len(d_out) > 1:
        return None
    rin, rout = members[0].layer.in_row_bytes, members[-1].layer.out_row_bytes
    return (d_in.pop() if d_in else 0) * rin, (d_out.pop() if d_out else 0) * rout


class _Emitter:
    """The C lines of one band call: its band params struct (one per distinct shape) and pointers."""

    def __init__(self, members: list[Chainable], buffers: list[int], ctx, ring: str | None = None):
        # ring: a streamed stage input (tinyflow.compile.stream): the C expression of the buffer
        # holding the input rows from byte `tf_stream_lo` of the whole input on.
        self.members, self.buffers, self.ctx, self.ring = members, buffers, ctx, ring
        self.structs: dict[tuple, str] = {}

    def _struct(self, m: Chainable, c: Call) -> str:
        band = dict(m.params, input_h=c.r1 - c.r0, output_h=c.hi - c.lo, pad_h=m.layer.band_pad(c.lo, c.r0))
        key = (m.step, tuple(sorted(band.items())))
        if key not in self.structs:
            self.ctx.op = m.op
            self.structs[key] = self.ctx.struct(m.cstruct, band, stem="pb")
            self.ctx.op = None
        return self.structs[key]

    def call(self, c: Call, step: tuple[int, int] | None = None) -> list[str]:
        """step: (input, output) bytes per loop turn of the whole tensors' pointers (in a band loop)."""
        m, n = self.members[c.layer], len(self.members)
        src = f"TF_T{m.tin}" if c.layer == 0 else f"TF_T{self.buffers[c.layer - 1]}"
        dst = f"TF_T{m.tout}" if c.layer == n - 1 else f"TF_T{self.buffers[c.layer]}"
        src_off, dst_off = f"{c.in_offset * m.layer.in_row_bytes}", f"{c.out_offset * m.layer.out_row_bytes}"
        if step is not None and c.layer == 0:
            src_off += f" + tf_band * {step[0]}u"
        if step is not None and c.layer == n - 1:
            dst_off += f" + tf_band * {step[1]}u"
        src = f"({src} + {src_off})"
        if self.ring is not None and c.layer == 0:
            src = f"({self.ring} + ({src_off} - tf_stream_lo))"  # unsigned: the ring starts at or before the band
        subs = {
            f"&{m.sym}": f"&{self._struct(m, c)}",
            f"TF_T{m.tin}": src,
            f"TF_T{m.tout}": f"({dst} + {dst_off})",
        }
        call = re.sub(
            "|".join(rf"{re.escape(k)}\b" if k.startswith("&") else rf"\b{k}\b" for k in subs),
            lambda mt: subs[mt.group(0)],
            m.call,
        )
        lines = []
        if c.shift:
            rb = m.layer.out_row_bytes
            lines.append(f"  tf_shift_rows(TF_T{self.buffers[c.layer]}, {c.shift[0] * rb}u, {c.shift[1] * rb}u);")
        return lines + [
            f"  status = {call};",
            "  if (status != 0) return status;",
            f"  if (op_ticks != NULL) {{ t1 = tinyflow_hal_ticks(); op_ticks[{m.step}] += t1 - t0; t0 = t1; }}",
        ]


def _drop_decl(ctx, m: Chainable) -> None:
    prefix = f"static const {m.cstruct.name} {m.sym} = "
    before = len(ctx.decls)
    ctx.decls[:] = [d for d in ctx.decls if not d.startswith(prefix)]
    if len(ctx.decls) != before:
        ctx.const_bytes -= 4 * len(m.cstruct.fields)  # every banded struct is int32 fields


def _replan(planning: Planning, st: Stage, members: list[Chainable], sched: Schedule, buffers: list[int]) -> None:
    """The stage runs at its first step: its intermediate tensors give way to band buffers alive
    there, and its output may overlap its input as far as the bands' order allows."""
    removed = {m.tout for m in members[:-1]}
    tin, tout = members[0].tin, members[-1].tout

    def at(step: int) -> int:
        return st.first if st.first <= step <= st.last else step

    for t in removed:
        planning.sizes.pop(t, None)
        planning.lifetimes.pop(t, None)
    planning.lifetimes = {t: (at(a), at(b)) for t, (a, b) in planning.lifetimes.items()}
    for b, size in zip(buffers, sched.buffer_bytes):
        planning.sizes[b] = max(size, 1)
        planning.lifetimes[b] = (st.first, st.first)
    planning.inplace = [p for p in planning.inplace if not removed & set(p)]
    planning.overlaps = [o for o in planning.overlaps if not removed & set(o[:2])]
    if tin not in planning.keep:
        planning.overlaps.append((tin, tout, sched.overlap))


__all__ = [
    "SHIFT_HELPER",
    "Planning",
    "RecordingContext",
    "Stage",
    "apply_stages",
    "band_groups",
    "chainable_steps",
    "chains",
]
