"""tinyflow.events: emit reaches the subscribed sinks, in order, only inside their `with` block."""

from __future__ import annotations

import pytest

from tinyflow import events
from tinyflow.events import Message, Progress, StageFinished, StageStarted, emit, stage, subscribe


def test_emit_without_subscribers_does_nothing():
    assert not events.subscribed()
    emit(Message("nobody listens"))  # no sink, no error, no output


def test_sinks_get_every_event_in_order_and_only_inside_their_block():
    outer, inner = [], []
    with subscribe(outer.append):
        emit(Progress("eval", 1, 3))
        with subscribe(inner.append):
            assert events.subscribed()
            emit(Progress("eval", 2, 3))
        emit(Progress("eval", 3, 3))
    emit(Progress("eval", 4, 3))
    assert [e.done for e in outer] == [1, 2, 3] and [e.done for e in inner] == [2]
    assert not events.subscribed()


def test_a_sink_that_raises_stops_the_emitter_and_is_unsubscribed_after():
    def stop(event):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), subscribe(stop):
        emit(Message("x"))
    assert not events.subscribed()


def test_stage_emits_start_then_finish_with_its_summary_and_duration():
    seen = []
    with subscribe(seen.append):
        with stage("build", "first build") as summary:
            summary.append("built 3 files")
        with stage("quiet"):
            pass
    assert seen[0] == StageStarted("build", "first build")
    assert isinstance(seen[1], StageFinished) and seen[1].summary == "built 3 files" and seen[1].seconds >= 0
    assert [type(e).__name__ for e in seen[2:]] == ["StageStarted", "StageFinished"] and seen[3].summary == ""


def test_a_failed_stage_emits_no_finish():
    seen = []
    with subscribe(seen.append), pytest.raises(ValueError):
        with stage("open"):
            raise ValueError("no device")
    assert seen == [StageStarted("open")]


def test_a_sink_must_be_callable():
    with pytest.raises(TypeError, match="callable"):
        with subscribe([]):
            pass
