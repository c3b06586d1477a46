"""Progress events: long steps emit them, whoever wants to show them subscribes.

    import tinyflow
    seen = []
    with tinyflow.subscribe(seen.append):
        tinyflow.evaluate(tinyflow.EvalConfig("kws.tflite", dataset="random:100"))
    # seen: [StageStarted('open', ...), StageFinished('open', ...), Progress('eval', 1, 100), ...]

Nothing below the CLI prints progress: the CLI subscribes a renderer (tinyflow/cli/_progress.py),
a notebook or a dashboard subscribes its own sink. Sinks live in a context variable, so model/,
build/ and the workflows emit without a sink being passed down through every call, and a run
without subscribers pays one lookup per event. Imports nothing from tinyflow (the LOW layer).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Callable, Iterator, Union


@dataclass(frozen=True)
class StageStarted:
    """A step began; `detail` says what may make it slow (e.g. a first firmware build)."""

    stage: str
    detail: str = ""


@dataclass(frozen=True)
class StageFinished:
    """A step ended after `seconds`; `summary` is its one-line result ("" when it has none)."""

    stage: str
    seconds: float
    summary: str = ""


@dataclass(frozen=True)
class Progress:
    """`done` of `total` units of a step (samples, runs, epochs); `detail` e.g. an epoch's metrics."""

    stage: str
    done: int
    total: int
    detail: str = ""


@dataclass(frozen=True)
class Message:
    """A line for the user that is not a result: a fallback taken, a notice."""

    text: str
    level: str = "notice"


Event = Union[StageStarted, StageFinished, Progress, Message]
Sink = Callable[[Event], None]

# A tuple, never mutated: subscribe() sets a longer one and restores the old one on exit.
_SINKS: ContextVar[tuple[Sink, ...]] = ContextVar("tinyflow_event_sinks", default=())


def emit(event: Event) -> None:
    """Hand `event` to every subscribed sink, in subscription order (a sink's exception propagates)."""
    for sink in _SINKS.get():
        sink(event)


def subscribed() -> bool:
    """Whether any sink listens (lets a caller skip building costly event details)."""
    return bool(_SINKS.get())


@contextmanager
def subscribe(sink: Sink) -> Iterator[Sink]:
    """Deliver every event emitted inside the `with` block (in this thread or task) to `sink`."""
    if not callable(sink):
        raise TypeError(f"a sink is a callable taking one event, got {type(sink).__name__}")
    token = _SINKS.set(_SINKS.get() + (sink,))
    try:
        yield sink
    finally:
        _SINKS.reset(token)


@contextmanager
def stage(name: str, detail: str = "") -> Iterator[list[str]]:
    """Emit StageStarted, run the block, emit StageFinished with its duration.

    The block may append one summary line to the yielded list. A block that raises emits no
    StageFinished: the error is the result.
    """
    summary: list[str] = []
    emit(StageStarted(name, detail))
    start = time.monotonic()
    yield summary
    emit(StageFinished(name, round(time.monotonic() - start, 2), summary[-1] if summary else ""))
