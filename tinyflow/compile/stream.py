"""Streamed input: the model input arrives row by row into the first patch-based stage.

A patch-planned model whose first stage reads the model input needs only a few input rows at a
time, yet the whole input would sit in the arena (VWW: 27,648 B of a 28,384 B arena). Streamed,
the input tensor is no arena buffer: a *ring* of the input rows one band reads (`ring_rows`) takes
the bytes as they come (`tinyflow_model_input_rows(index, offset, data, len)`, in order, offset 0
starting a sample), and each band of the first stage runs as soon as its rows are in. When the
ring is full, the rows no later band reads are dropped and the rest shifted to its start (rows
arrive in order and bands read them in order, so the ring is a sliding window, which the kernels
read as contiguous rows). tinyflow_model_invoke then checks that every band ran and runs the ops
after the stage. The stage's bands, band buffers and pointers are those of the unstreamed stage
(tinyflow.compile.patch_plan); only the layer-0 input pointer moves into the ring.

Pure: a stage's schedule in, C text and the planner's changes out.
"""

from __future__ import annotations

from tinyflow.compile.patch_plan import SHIFT_HELPER, Planning, Stage, _bands, _Emitter, band_groups
from tinyflow.compile.patches import Schedule

MODES = ("auto", "on", "off")
ENTRY = "input_rows"  # <api>_input_rows: the streaming entry next to <api>_input


def streamable_input(model, ops, preserve_inputs: bool) -> int | None:
    """The model input that can stream (the only input, read by step 0 alone, not an output; no state
    tensors, no preserved inputs), else None. Only a stage starting at step 0 streams it."""
    if preserve_inputs or len(model.inputs) != 1 or any(t.is_variable for t in model.tensors):
        return None
    tin = model.inputs[0]
    readers = [s for s, op in enumerate(ops) if tin in op.inputs]
    return tin if readers == [0] and tin not in model.outputs else None


def ring_rows(sched: Schedule) -> int:
    """Input rows the ring holds: the most one band's layer-0 call reads."""
    return max(c.r1 - c.r0 for c in sched.calls if c.layer == 0)


def band_tables(sched: Schedule, n_layers: int) -> tuple[list[int], list[int]]:
    """Per band: input bytes that must be in before it runs (`need`), and the first input byte it or a
    later band still reads (`keep`: the ring may drop what lies before)."""
    rb = sched.layers[0].in_row_bytes
    total = sched.layers[0].in_rows * rb
    need, keep = [], []
    for band in _bands(sched.calls, n_layers):
        first = next((c for c in band if c.layer == 0), None)
        need.append(first.r1 * rb if first else (need[-1] if need else 0))
        keep.append(first.r0 * rb if first else None)
    nxt = total
    for b in range(len(keep) - 1, -1, -1):  # bands reading no input row keep what the next one reads
        keep[b] = nxt = keep[b] if keep[b] is not None else nxt
    return need, keep


def stream_stage(st: Stage, members, sched: Schedule, buffers: list[int], ring: int, ctx, api: str) -> list[str]:
    """The C of a streamed stage: declarations (state, band tables, the band function and
    <api>_input_rows) go to ctx.decls; returns the lines invoke runs in the stage's place."""
    rb = members[0].layer.in_row_bytes
    total = members[0].layer.in_rows * rb
    cap = ring_rows(sched) * rb
    need, keep = band_tables(sched, len(members))
    emit = _Emitter(members, buffers, ctx, ring=f"TF_T{ring}")
    bands = _bands(sched.calls, len(members))
    body = []
    for j, k, step in band_groups(bands, members):
        if step is not None:
            body.append(f"  if (band <= {k}u) {{")
            body.append(f"    const uint32_t tf_band = band - {j}u;")
            body += ["  " + ln for c in bands[j] for ln in emit.call(c, step)]
        else:
            body.append(f"  if (band == {j}u) {{")
            body += ["  " + ln for c in bands[j] for ln in emit.call(c)]
        body += ["    return 0;", "  }"]
    if any(c.shift for c in sched.calls) and SHIFT_HELPER not in ctx.decls:  # before the band function
        ctx.decls.append(SHIFT_HELPER)
    n = len(bands)
    ctx.decls.append(
        "\n".join(
            [
                "#include <string.h>",
                f"/* ops {st.first}-{st.last}: the input streamed row by row into {sched.band_rows}-row bands "
                "(tinyflow.compile.stream). */",
                f"#define TF_STREAM_BYTES {total}u",
                f"#define TF_STREAM_RING {cap}u",
                f"#define TF_STREAM_ROW {rb}u",
                f"#define TF_STREAM_BANDS {n}u",
                f"static const uint32_t tf_stream_need[{n}] = {{{', '.join(f'{v}u' for v in need)}}};",
                f"static const uint32_t tf_stream_keep[{n}] = {{{', '.join(f'{v}u' for v in keep)}}};",
                "static uint32_t tf_stream_lo;   /* input byte held at the ring's start (a row's start) */",
                "static uint32_t tf_stream_got;  /* input bytes received so far */",
                "static uint32_t tf_stream_band; /* the next band to run */",
                f"static uint32_t tf_stream_ticks[{st.last + 1}]; /* per op of the stage, since offset 0 */",
                "",
                "static int tf_stream_run_band(uint32_t band, uint32_t *op_ticks) {",
                "  int status = 0;",
                "  uint32_t t0 = tinyflow_hal_ticks(), t1;",
                *body,
                "  (void)status;",
                "  (void)t1;",
                "  return -1;",
                "}",
                "",
                *_entry(api, st, ring),
            ]
        )
    )
    return [
        f"  /* ops {st.first}-{st.last}: ran band by band as {api}_input_rows took the input */",
        "  if (tf_stream_got != TF_STREAM_BYTES || tf_stream_band != TF_STREAM_BANDS) return -2; /* input incomplete */",
        "  tf_stream_got = 0u; /* consumed: the next invoke needs a new input */",
        "  tf_stream_band = 0u;",
        "  if (op_ticks != NULL) { "
        + " ".join(f"op_ticks[{m.step}] = tf_stream_ticks[{m.step}];" for m in members)
        + " t0 = tinyflow_hal_ticks(); }",
        "  (void)t0; /* the stage may be the whole model */",
        f"  TF_TRACE({st.last});",
    ]


def _entry(api: str, st: Stage, ring: int) -> list[str]:
    """<api>_input_rows: store bytes in order, run every band whose rows are in, slide the ring."""
    return [
        "/* Runs the bands whose input rows are all in. */",
        "static int tf_stream_ready(void) {",
        "  while (tf_stream_band < TF_STREAM_BANDS && tf_stream_got >= tf_stream_need[tf_stream_band]) {",
        "    int status = tf_stream_run_band(tf_stream_band, tf_stream_ticks);",
        "    if (status != 0) return status;",
        "    ++tf_stream_band;",
        "  }",
        "  return 0;",
        "}",
        "",
        f"int {api}_{ENTRY}(int index, uint32_t offset, const uint8_t *data, uint32_t len) {{",
        "  int status;",
        "  if (index != 0 || (len > 0u && data == NULL)) return -1;",
        "  if (offset == 0u) { /* a new sample */",
        "    uint32_t k;",
        "    tf_stream_lo = 0u;",
        "    tf_stream_got = 0u;",
        "    tf_stream_band = 0u;",
        f"    for (k = 0; k < {st.last + 1}u; ++k) tf_stream_ticks[k] = 0u;",
        "  }",
        "  if (offset != tf_stream_got || len > TF_STREAM_BYTES - offset) return -1; /* in order, within the input */",
        "  while (len > 0u) { /* bounded: each turn stores bytes, or frees ring space and then stores */",
        "    uint32_t used, n;",
        "    if (tf_stream_band >= TF_STREAM_BANDS) { /* rows no band reads */",
        "      tf_stream_got += len;",
        "      break;",
        "    }",
        "    used = tf_stream_got - tf_stream_lo;",
        "    if (used == TF_STREAM_RING) { /* full: drop the rows no band from here on reads */",
        "      uint32_t to = tf_stream_keep[tf_stream_band];",
        "      uint32_t whole = tf_stream_got - tf_stream_got % TF_STREAM_ROW;",
        "      if (to > whole) to = whole;",
        "      if (to <= tf_stream_lo) return -3; /* cannot happen: the ring holds any band's rows */",
        f"      memmove(TF_T{ring}, TF_T{ring} + (to - tf_stream_lo), tf_stream_got - to);",
        "      tf_stream_lo = to;",
        "      used = tf_stream_got - tf_stream_lo;",
        "    }",
        "    n = TF_STREAM_RING - used < len ? TF_STREAM_RING - used : len;",
        f"    memcpy(TF_T{ring} + used, data, n);",
        "    tf_stream_got += n;",
        "    data += n;",
        "    len -= n;",
        "    status = tf_stream_ready();",
        "    if (status != 0) return status;",
        "  }",
        "  return tf_stream_ready();",
        "}",
    ]


def replan_stream(planning: Planning, tin: int, ring: int, ring_bytes: int, at: int) -> None:
    """The planner's view: the whole input gives way to the ring, alive only while the stage runs."""
    planning.sizes.pop(tin, None)
    planning.lifetimes.pop(tin, None)
    planning.sizes[ring] = max(ring_bytes, 1)
    planning.lifetimes[ring] = (at, at)
    planning.inplace = [p for p in planning.inplace if tin not in p]
    planning.overlaps = [o for o in planning.overlaps if tin not in o[:2]]
    planning.aliases = [a for a in planning.aliases if tin not in a]


__all__ = ["ENTRY", "MODES", "band_tables", "replan_stream", "ring_rows", "stream_stage", "streamable_input"]
