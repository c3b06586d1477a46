"""Static memory planner for the compiled runtime: one arena, offsets from tensor lifetimes.

Pure: takes sizes and lifetimes (op steps), returns offsets. Aliases (RESHAPE) share one buffer;
in-place pairs (an element-wise op's output over an input that dies at that op) share one too.
Placement is greedy (lowest gap that fits among buffers alive at the same time) under several
orders; the smallest arena wins.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Iterable

LARGE_PLAN = 256  # buffers; larger graphs get two greedy orders and no random search
ALIGN = 4  # int16/int32 tensors need it on Cortex-M0; int8 ones lose at most 3 bytes


@dataclass
class Buffer:
    """Memory shared by one or more tensors (aliases, in-place pairs)."""

    tensors: list[int]
    size: int
    first: int
    last: int
    offset: int = -1

    def overlaps(self, other: "Buffer") -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass
class MemoryPlan:
    """Where each activation tensor lives in the arena."""

    offsets: dict[int, int]
    arena_bytes: int
    lower_bound: int
    strategy: str
    buffers: list[Buffer] = field(default_factory=list)
    tried: dict[str, int] = field(default_factory=dict)
    overlaps: list[tuple[int, int, int]] = field(default_factory=list)

    def buffer_of(self, tensor: int) -> Buffer:
        return next(b for b in self.buffers if tensor in b.tensors)


def _align(n: int, a: int = ALIGN) -> int:
    return (n + a - 1) // a * a


class _Groups:
    """Union-find over tensor indices."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, t: int) -> int:
        self.parent.setdefault(t, t)
        while self.parent[t] != t:
            self.parent[t] = self.parent[self.parent[t]]
            t = self.parent[t]
        return t

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(b)] = self.find(a)


def _buffers(sizes: dict[int, int], lifetimes: dict[int, tuple[int, int]], groups: _Groups) -> list[Buffer]:
    merged: dict[int, Buffer] = {}
    for t in sorted(sizes):
        root = groups.find(t)
        first, last = lifetimes[t]
        b = merged.get(root)
        if b is None:
            merged[root] = Buffer([t], sizes[t], first, last)
        else:
            b.tensors.append(t)
            b.size, b.first, b.last = max(b.size, sizes[t]), min(b.first, first), max(b.last, last)
    return list(merged.values())


def lower_bound(buffers: Iterable[Buffer]) -> int:
    """Largest sum of live buffer bytes at any op step."""
    buffers = list(buffers)
    steps = {s for b in buffers for s in (b.first, b.last)}
    return max((sum(b.size for b in buffers if b.first <= s <= b.last) for s in steps), default=0)


def _compatible(a: Buffer, b: Buffer, slack: dict[tuple[int, int], int]) -> bool:
    """a and b (both placed, alive together) may share these addresses."""
    if a.offset + a.size <= b.offset or b.offset + b.size <= a.offset:
        return True
    d = slack.get((id(a), id(b)))
    if d is not None:
        return b.offset - a.offset <= d
    d = slack.get((id(b), id(a)))
    return d is not None and a.offset - b.offset <= d


def _place(buffers: list[Buffer], order: list[Buffer], slack: dict[tuple[int, int], int]) -> int:
    """Greedy lowest-fit in `order`; sets offsets, returns the arena size.

    slack[(id(src), id(dst))] = d: dst may start up to d bytes after src's start although they
    overlap (a raster-order kernel reads src ahead of writing dst; see Lowered.overlap)."""
    placed: list[Buffer] = []
    for b in order:
        busy = sorted((p for p in placed if p.overlaps(b)), key=lambda p: p.offset)
        b.offset = _first_fit(b, busy)  # valid: treats every live buffer as an obstacle
        candidates = _slack_candidates(b, busy, slack)
        if candidates and len(busy) <= EXHAUSTIVE_BUSY:
            candidates |= {_align(p.offset + p.size) for p in busy}
        fallback = b.offset
        for offset in sorted(c for c in candidates if c < fallback):
            b.offset = offset
            if all(_compatible(p, b, slack) for p in busy):
                break
        else:
            b.offset = fallback
        placed.append(b)
    return max((_align(b.offset + b.size) for b in buffers), default=0)


EXHAUSTIVE_BUSY = 64  # beyond this many live neighbours only the first fit and slack offsets are tried


def _first_fit(b: Buffer, busy: list[Buffer]) -> int:
    offset = 0
    for p in busy:  # sorted by offset
        if p.offset - offset >= b.size:
            break
        offset = max(offset, _align(p.offset + p.size))
    return offset


def _slack_candidates(b: Buffer, busy: list[Buffer], slack: dict[tuple[int, int], int]) -> set[int]:
    out = set()
    for p in busy:
        if (id(p), id(b)) in slack:  # b is the output: as early as p.offset + d allows
            out.add(max(0, (p.offset + slack[(id(p), id(b))]) // ALIGN * ALIGN))
        if (id(b), id(p)) in slack:  # b is the input: at or after p.offset - d
            out.add(_align(max(0, p.offset - slack[(id(b), id(p))])))
    return out


ORDERS = {
    "size": lambda b: (-b.size, b.first),
    "first_use": lambda b: (b.first, -b.size),
    "lifetime": lambda b: (-(b.last - b.first), -b.size),
    "area": lambda b: (-b.size * (b.last - b.first + 1), b.first),
    "last_use": lambda b: (-b.last, -b.size),
}


def plan_memory(
    sizes: dict[int, int],
    lifetimes: dict[int, tuple[int, int]],
    aliases: Iterable[tuple[int, int]] = (),
    inplace: Iterable[tuple[int, int]] = (),
    overlaps: Iterable[tuple[int, int, int]] = (),
    search: int = 200,
) -> MemoryPlan:
    """Plan the arena.

    Args:
        sizes: tensor index -> bytes, for every activation tensor (inputs and outputs included).
        lifetimes: tensor index -> (first op step, last op step), inclusive.
        aliases: (source, alias) pairs that are the same memory whatever happens (RESHAPE).
        inplace: (input, output) pairs that may share memory; taken when the input's buffer dies
            at the output's first step and the output fits in it.
    Returns:
        The smallest plan over ORDERS; `lower_bound` is over alias-merged tensors.
    """
    groups = _Groups()
    for src, dst in aliases:
        groups.union(src, dst)
    bound = lower_bound(_buffers(sizes, lifetimes, groups))
    for src, dst in inplace:
        if groups.find(src) == groups.find(dst):
            continue
        a = _buffers(sizes, lifetimes, groups)
        bsrc = next(x for x in a if groups.find(x.tensors[0]) == groups.find(src))
        bdst = next(x for x in a if groups.find(x.tensors[0]) == groups.find(dst))
        if bsrc.last == bdst.first and bdst.size <= bsrc.size:
            groups.union(src, dst)
    overlaps = list(overlaps)
    best: MemoryPlan | None = None
    tried: dict[str, int] = {}

    def attempt(name: str, arrange) -> None:
        nonlocal best
        buffers = _buffers(sizes, lifetimes, groups)
        size = _place(buffers, arrange(buffers), _slack(buffers, groups, overlaps))
        tried[name] = min(size, tried.get(name, size))
        if best is None or size < best.arena_bytes:
            offsets = {t: b.offset for b in buffers for t in b.tensors}
            best = MemoryPlan(offsets, size, bound, name, buffers, overlaps=overlaps)

    n = len(_buffers(sizes, lifetimes, groups))
    orders = ORDERS if n <= LARGE_PLAN else {k: ORDERS[k] for k in ("size", "first_use")}
    search = search if n <= LARGE_PLAN else 0  # keeps hostile graphs from stalling the compile
    for name, key in orders.items():
        attempt(name, lambda bs, key=key: sorted(bs, key=key))
    # Seeded random orders: greedy orders miss packings where a long-lived tensor should sit at
    # the bottom; a few hundred cheap tries find them (deterministic, bounded by `search`).
    rng = random.Random(0)
    for _ in range(search):
        attempt("random", lambda bs: rng.sample(bs, len(bs)))
    assert best is not None
    best.tried = tried
    return best


def _slack(buffers: list[Buffer], groups: _Groups, overlaps) -> dict[tuple[int, int], int]:
    by_root = {groups.find(b.tensors[0]): b for b in buffers}
    slack: dict[tuple[int, int], int] = {}
    for src, dst, d in overlaps:
        a, b = by_root.get(groups.find(src)), by_root.get(groups.find(dst))
        if a is not None and b is not None and a is not b and a.last == b.first:
            key = (id(a), id(b))
            slack[key] = min(slack.get(key, d), d)
    return slack


def check_plan(plan: MemoryPlan) -> None:
    """Raise AssertionError if two buffers alive at the same step share bytes without an allowed
    overlap (tests use it)."""
    bs = plan.buffers
    groups = _Groups()
    for b in bs:
        for t in b.tensors[1:]:
            groups.union(b.tensors[0], t)
    slack = _slack(bs, groups, plan.overlaps)
    for i, a in enumerate(bs):
        assert 0 <= a.offset and a.offset + a.size <= plan.arena_bytes, (a, plan.arena_bytes)
        for b in bs[i + 1 :]:
            if a.overlaps(b):
                assert _compatible(a, b, slack), (a, b)
