"""Static memory planner for the compiled runtime: one arena, offsets from tensor lifetimes.

Pure: takes sizes and lifetimes (op steps), returns offsets. Aliases (RESHAPE) share one buffer;
in-place pairs (an element-wise op's output over an input that dies at that op) share one too.
Placement is greedy (lowest gap that fits among buffers alive at the same time) under several
orders; the smallest arena wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

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


def _place(buffers: list[Buffer], order: list[Buffer]) -> int:
    """Greedy first-fit in `order`; sets offsets, returns the arena size."""
    placed: list[Buffer] = []
    for b in order:
        busy = sorted((p for p in placed if p.overlaps(b)), key=lambda p: p.offset)
        offset = 0
        for p in busy:
            if p.offset - offset >= b.size:
                break
            offset = max(offset, _align(p.offset + p.size))
        b.offset = offset
        placed.append(b)
    return max((_align(b.offset + b.size) for b in buffers), default=0)


ORDERS = {
    "size": lambda b: (-b.size, b.first),
    "first_use": lambda b: (b.first, -b.size),
    "lifetime": lambda b: (-(b.last - b.first), -b.size),
    "area": lambda b: (-b.size * (b.last - b.first + 1), b.first),
    "last_use": lambda b: (-b.last, -b.size),
}


def plan_memory(sizes: dict[int, int], lifetimes: dict[int, tuple[int, int]],
                aliases: Iterable[tuple[int, int]] = (), inplace: Iterable[tuple[int, int]] = ()) -> MemoryPlan:
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
        a, b = _buffers(sizes, lifetimes, groups), None
        bsrc = next(x for x in a if groups.find(x.tensors[0]) == groups.find(src))
        bdst = next(x for x in a if groups.find(x.tensors[0]) == groups.find(dst))
        if bsrc.last == bdst.first and bdst.size <= bsrc.size:
            groups.union(src, dst)
    best: MemoryPlan | None = None
    tried: dict[str, int] = {}
    for name, key in ORDERS.items():
        buffers = _buffers(sizes, lifetimes, groups)
        size = _place(buffers, sorted(buffers, key=key))
        tried[name] = size
        if best is None or size < best.arena_bytes:
            offsets = {t: b.offset for b in buffers for t in b.tensors}
            best = MemoryPlan(offsets, size, bound, name, buffers)
    assert best is not None
    best.tried = tried
    return best


def check_plan(plan: MemoryPlan) -> None:
    """Raise AssertionError if two buffers alive at the same step overlap in memory (tests use it)."""
    bs = plan.buffers
    for i, a in enumerate(bs):
        assert 0 <= a.offset and a.offset + a.size <= plan.arena_bytes, (a, plan.arena_bytes)
        for b in bs[i + 1:]:
            if a.overlaps(b):
                assert a.offset + a.size <= b.offset or b.offset + b.size <= a.offset, (a, b)
