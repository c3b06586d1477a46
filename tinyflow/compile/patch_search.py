"""`--max-ram`: the patch-based stages with the fewest extra instructions whose plan meets a RAM budget.

Each run of chainable ops (tinyflow.compile.patch_plan.chains) is split into plain ops and stages by
dynamic programming over its steps, with the RAM of each piece estimated from sizes (its input and
output with their allowed overlap, its band buffers, the other tensors alive there) and the cost from
the schedule (tinyflow.compile.patches.Schedule.cost). The memory planner then checks the choices
in order of cost; the first whose arena meets the budget wins.
"""

from __future__ import annotations

import copy
from typing import Callable

from tinyflow.compile.codegen import OpCall
from tinyflow.compile.patch_plan import Planning, RecordingContext, Stage, apply_stages, chainable_steps, chains
from tinyflow.compile.patches import schedule
from tinyflow.compile.planner import plan_memory
from tinyflow.errors import ModelError, UsageError

BAND_ROWS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)
MAX_STAGE_OPS = 12  # deeper stages hold more band buffers than they save; bounds the search
TRIES = 8  # budgets tried between the request and the lowest estimated peak


def span(a: int, b: int, d: int | None) -> int:
    """Bytes two tensors alive together need when b may start up to d bytes after a (None: apart)."""
    if d is None:
        return a + b
    if d >= 0:
        return max(a, b)
    return min(max(a - d, b), a + b)


class _Estimator:
    """Per-step RAM estimates of plain ops and stages over one planning."""

    def __init__(self, planning: Planning, steps, n_steps: int, stream: int | None = None):
        # stream: the model input a stage at step 0 takes row by row (a ring, not the whole input)
        self.p, self.steps, self.stream = planning, steps, stream
        self.d = {(s, t): d for s, t, d in planning.overlaps}
        self.inplace = set(map(tuple, planning.inplace))
        self.live = [{t for t, (a, b) in planning.lifetimes.items() if a <= s <= b} for s in range(n_steps)]
        self.cache: dict[tuple[int, int, int], object] = {}

    def _other(self, s: int, exclude: set[int]) -> int:
        return sum(self.p.sizes[t] for t in self.live[s] - exclude)

    def pair(self, at: range, tin: int, tout: int, d: int | None, extra: int = 0, a: int | None = None) -> int:
        """RAM at steps `at` running tin -> tout (whole; `a`: tin's bytes when not whole) with `extra`
        bytes of band buffers."""
        a, b = self.p.sizes.get(tin, 0) if a is None else a, self.p.sizes.get(tout, 0)
        if (tin, tout) in self.inplace:
            d = max(d or 0, 0)
        # A stage's own intermediate tensors are replaced by its band buffers (`extra`).
        excl = {tin, tout} | {self.steps[k].tout for k in at if k in self.steps}
        return span(a, b, d) + extra + max(self._other(k, excl) for k in at)

    def plain(self, s: int) -> int:
        m = self.steps[s]
        return self.pair(range(s, s + 1), m.tin, m.tout, self.d.get((m.tin, m.tout)))

    def stage(self, first: int, last: int, rows: int):
        key = (first, last, rows)
        if key not in self.cache:
            members = [self.steps[k] for k in range(first, last + 1)]
            sched = schedule([m.layer for m in members], rows)
            d = sched.overlap if members[0].tin not in self.p.keep else None
            a = None
            if first == 0 and members[0].tin == self.stream:  # streamed: a ring of rows, apart from the output
                from tinyflow.compile.stream import ring_rows

                a, d = ring_rows(sched) * members[0].layer.in_row_bytes, None
            ram = self.pair(range(first, last + 1), members[0].tin, members[-1].tout, d, sum(sched.buffer_bytes), a)
            self.cache[key] = (ram, sched.cost)
        return self.cache[key]


def _best(run: list[int], est: _Estimator, budget: int | None) -> tuple[int, int, list[Stage]]:
    """(peak, cost, stages) over `run`: the cheapest under `budget`, or (budget None) the lowest
    peak, then the cheapest."""
    inf = (float("inf"), float("inf"), [])
    best: list[tuple] = [inf] * (len(run) + 1)
    best[0] = (0, 0, [])

    def better(new, old) -> bool:
        if budget is None:
            return (new[0], new[1]) < (old[0], old[1])
        return new[0] <= budget and (old[0] > budget or new[1] < old[1])

    for j in range(len(run)):
        peak, cost, stages = best[j]
        if peak == float("inf"):
            continue
        cand = (max(peak, est.plain(run[j])), cost, stages)
        if better(cand, best[j + 1]):
            best[j + 1] = cand
        for e in range(j + 1, min(len(run), j + MAX_STAGE_OPS)):
            out_rows = est.steps[run[e]].layer.out_rows
            for rows in (r for r in BAND_ROWS if r < out_rows):
                ram, extra = est.stage(run[j], run[e], rows)
                cand = (max(peak, ram), cost + extra, stages + [Stage(run[j], run[e], rows)])
                if better(cand, best[e + 1]):
                    best[e + 1] = cand
    return best[-1]


def choose_stages(
    budget: int,
    runs: list[list[int]],
    steps,
    planning: Planning,
    n_steps: int,
    arena_of: Callable,
    stream: int | None = None,
) -> tuple[list[Stage], int, int]:
    """Stages meeting `budget` bytes of arena with the fewest estimated extra instructions.

    Args:
        arena_of: stages -> the planner's arena bytes.
    Returns:
        (stages, arena bytes, smallest arena found): stages is None when no choice met the budget.
    """
    est = _Estimator(planning, steps, n_steps, stream)
    smallest = arena_of([])
    if smallest <= budget:
        return [], smallest, smallest
    lowest = _best_all(runs, est, None)
    floor = lowest[0]
    # The estimates miss how the planner packs chains of overlapping tensors: try the cheapest
    # choice under a few budgets between the request and the lowest estimate, keep what really fits.
    targets = sorted({budget - (budget - floor) * k // TRIES for k in range(TRIES + 1)}, reverse=True)
    seen: dict[tuple, int] = {}
    choices = [_best_all(runs, est, t) for t in targets if t >= floor] + [lowest]
    for _peak, _cost, stages in choices:
        key = tuple(stages)
        if key not in seen:
            seen[key] = arena_of(stages)
        smallest = min(smallest, seen[key])
        if seen[key] <= budget:
            return stages, seen[key], smallest
    return None, smallest, smallest


def _best_all(runs, est, budget):
    """_best over every run: (highest peak, total cost, stages)."""
    parts = [_best(run, est, budget) for run in runs]
    return max((p[0] for p in parts), default=0), sum(p[1] for p in parts), [s for p in parts for s in p[2]]


def patch_stages(
    model, ops, lowered, ctx, calls, planning: Planning, max_ram: int | None, patches, stream=None, api=None
):
    """(stages, planning, calls, schedules): `patches` ((first op, last op, band rows) each) or the
    stages meeting max_ram, applied to copies of `planning` and `calls`. stream: the model input a
    stage at step 0 may take row by row (tinyflow.compile.stream); api: the model.h names' prefix.

    Raises:
        UsageError: patches that cannot run band by band. ModelError: max_ram cannot be met.
    """
    steps = chainable_steps(model, ops, lowered, ctx)
    runs = chains(model, ops, steps, planning.keep)
    if patches:
        try:
            stages = [Stage(*(int(v) for v in p)) for p in patches]
        except (TypeError, ValueError) as exc:
            raise UsageError(
                f"Patch stages must be (first op, last op, band rows) each: {exc}", "Fix the list."
            ) from None
    else:

        def arena_of(choice) -> int:
            # A scratch context: trying a choice must not add declarations to the real one.
            scratch = RecordingContext(ctx.model, ctx.values, ctx.reference)
            scratch.recording = False
            blank = [OpCall(op.name, "") for op in ops]
            p, _, _ = _applied(choice, steps, runs, scratch, blank, planning, 1 << 20, stream)
            return plan_memory(p.sizes, p.lifetimes, p.aliases, p.inplace, p.overlaps, search=20).arena_bytes

        stages, _, smallest = choose_stages(max_ram, runs, steps, planning, len(ops), arena_of, stream)
        if stages is None:
            raise budget_error(max_ram, smallest, model, stream is not None)
    planning, calls, schedules = _applied(stages, steps, runs, ctx, calls, planning, len(model.tensors), stream, api)
    return stages, planning, calls, schedules


def plan_patches(m, ops, lowered, ctx, calls, planning, max_ram, patches, stream_input, preserve_inputs, api):
    """patch_stages with the input streamed (tinyflow.compile.stream) as `stream_input` says: "off"
    never; "on" whenever a stage starts at the input; "auto" only when the budget cannot be met with
    the input held whole (so a model that fits without streaming keeps its plain input buffer).

    Raises:
        UsageError: an unknown mode, or "on" for a model whose input cannot stream.
    """
    from tinyflow.compile.stream import MODES, streamable_input

    if stream_input not in MODES:
        raise UsageError(f"Unknown stream_input {stream_input!r}", f"Use one of: {', '.join(MODES)}.")
    tin = streamable_input(m, ops, preserve_inputs) if stream_input != "off" else None
    if stream_input == "on" and tin is None:
        raise UsageError(
            "The model input cannot stream row by row",
            "Streaming needs one input read only by the first op, no state tensors and no preserved inputs.",
        )
    if stream_input == "on" or tin is None or max_ram is None:
        return patch_stages(m, ops, lowered, ctx, calls, planning, max_ram, patches, tin, api)
    try:
        return patch_stages(m, ops, lowered, ctx, calls, planning, max_ram, patches, None, api)
    except ModelError:  # ctx is untouched: a failed search applies nothing
        return patch_stages(m, ops, lowered, ctx, calls, planning, max_ram, patches, tin, api)


def _applied(stages, steps, runs, ctx, calls, planning, first_id, stream=None, api=None):
    planning, calls = copy.deepcopy(planning), list(calls)
    schedules = apply_stages(stages, steps, runs, ctx, calls, planning, first_id, stream, api or "tinyflow_model")
    return planning, calls, schedules


def budget_error(max_ram: int, smallest: int, model, streamed: bool = False) -> ModelError:
    """The error of a budget no choice of patches meets (naming the input when it alone is over,
    unless it could stream: then it is not held whole)."""
    inputs = sum(int(model.tensors[i].nbytes) for i in model.inputs)
    why = f" (the model's input alone is {inputs:,} bytes, held whole)" if inputs > max_ram and not streamed else ""
    return ModelError(
        f"The activation arena cannot fit in {max_ram:,} bytes: the smallest plan with patch-based "
        f"inference needs {smallest:,} bytes{why}",
        f"Use --max-ram {smallest} or more, or a smaller model.",
    )


__all__ = ["BAND_ROWS", "budget_error", "choose_stages", "patch_stages", "plan_patches", "span"]
