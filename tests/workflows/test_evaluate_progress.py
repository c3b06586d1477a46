"""The progress events the workflows emit (tinyflow.events), collected by a list as a notebook would."""

from __future__ import annotations

from conftest import corpus_path
from tinyflow.events import Message, Progress, StageFinished, StageStarted, subscribe
from tinyflow.workflows.config import DemoConfig, EvalConfig, ProfileConfig

HELLO = "tflm/hello_world_int8.tflite"


def test_evaluate_emits_open_then_one_progress_per_sample():
    from tinyflow.workflows.evaluate import evaluate

    seen = []
    with subscribe(seen.append):
        report = evaluate(EvalConfig(corpus_path(HELLO), dataset="random:7"))
    assert report.samples == 7
    assert seen[:2] == [StageStarted("open"), StageFinished("open", seen[1].seconds)]
    assert seen[2:] == [Progress("eval", n, 7) for n in range(8)]


def test_a_resumed_evaluation_counts_the_journal_as_done(tmp_path):
    from tinyflow.workflows.evaluate import evaluate

    def stop_at_3(event):
        if isinstance(event, Progress) and event.done == 3:
            raise KeyboardInterrupt

    try:
        with subscribe(stop_at_3):
            evaluate(EvalConfig(corpus_path(HELLO), dataset="random:6", report_dir=tmp_path))
    except KeyboardInterrupt:
        pass
    seen = []
    with subscribe(seen.append):
        evaluate(EvalConfig(corpus_path(HELLO), dataset="random:6", report_dir=tmp_path, resume=True))
    assert [e.done for e in seen if isinstance(e, Progress)] == [3, 4, 5, 6]


def test_profile_emits_one_progress_per_run():
    from tinyflow.workflows.profile import profile_model

    seen = []
    with subscribe(seen.append):
        report = profile_model(ProfileConfig(corpus_path(HELLO), runs=3))
    assert report.runs == 3
    assert [e for e in seen if isinstance(e, Progress)] == [Progress("profile", n, 3) for n in range(4)]
    assert [type(e) for e in seen[:2]] == [StageStarted, StageFinished]


def test_run_demo_emits_each_stage_and_returns_its_report(tmp_path):
    from tinyflow.events import emit
    from tinyflow.workflows.demo import DemoReport, run_demo

    def first(state):
        state.report["first"] = {"n": 1}
        emit(Message("inside a stage"))
        return "one"

    def second(state):
        state.save("note", "note.txt", "hi")
        return "two"

    seen = []
    with subscribe(seen.append):
        report = run_demo(DemoConfig(out=tmp_path / "d"), stages=[("first", first), ("second", second)])
    names = [(type(e).__name__, getattr(e, "stage", None)) for e in seen]
    assert names == [
        ("StageStarted", "first"),
        ("Message", None),
        ("StageFinished", "first"),
        ("StageStarted", "second"),
        ("StageFinished", "second"),
    ]
    assert [e.summary for e in seen if isinstance(e, StageFinished)] == ["one", "two"]
    assert isinstance(report, DemoReport) and report.stages == {"first": {"n": 1}}
    d = report.to_dict()
    assert d["first"] == {"n": 1} and set(d["seconds"]) == {"first", "second"}
    assert d["artifacts"]["note"].endswith("note.txt") and (tmp_path / "d" / "report.json").exists()
    assert "artifacts in" in str(report)
