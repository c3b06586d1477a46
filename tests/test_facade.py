"""The public facade: `import tinyflow` stays cheap, and every name it offers resolves."""

from __future__ import annotations

import subprocess
import sys

import pytest

import tinyflow

HEAVY = ("numpy", "tensorflow", "keras", "click", "rich", "tflite_micro", "ai_edge_litert", "serial", "sklearn")


def _modules_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint('\\n'.join(sorted(sys.modules)))\n"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.split()


def test_import_tinyflow_loads_nothing_heavy():
    loaded = _modules_after("import tinyflow; dir(tinyflow); tinyflow.__version__")
    assert [m for m in loaded if m.split(".")[0] in HEAVY] == []
    assert [m for m in loaded if m.startswith("tinyflow")] == ["tinyflow"]


def test_configs_and_events_come_without_numpy():
    loaded = _modules_after(
        "import tinyflow\ntinyflow.EvalConfig('m.tflite', dataset='random:1')\n"
        "with tinyflow.subscribe(print): tinyflow.events.emit(tinyflow.events.Message('hi'))"
    )
    assert [m for m in loaded if m.split(".")[0] in HEAVY] == []


@pytest.mark.parametrize("name", sorted(tinyflow._API))
def test_every_facade_name_resolves_to_what_its_module_defines(name):
    import importlib

    module, _, attr = tinyflow._API[name].partition(":")
    want = importlib.import_module(module)
    assert getattr(tinyflow, name) is (getattr(want, attr) if attr else want)
    assert name in dir(tinyflow) and name in tinyflow.__all__


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'evaluat'"):
        tinyflow.evaluat  # noqa: B018


def test_the_facade_runs_a_workflow():
    from conftest import corpus_path

    seen = []
    with tinyflow.subscribe(seen.append):
        report = tinyflow.evaluate(tinyflow.EvalConfig(corpus_path("tflm/hello_world_int8.tflite"), dataset="random:3"))
    assert isinstance(report, tinyflow.EvalReport) and report.samples == 3
    assert [e.done for e in seen if isinstance(e, tinyflow.events.Progress)] == [0, 1, 2, 3]
