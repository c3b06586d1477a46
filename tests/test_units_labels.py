"""Units and labels a person reads (issue 15): latency units by size, what a metric was measured on."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from tinyflow import metrics
from tinyflow.report import fmt_latency, latency_unit


@pytest.mark.parametrize(
    ("us", "text"),
    [
        (35.21, "35.2 µs"),
        (999.94, "999.9 µs"),
        (999.96, "1.00 ms"),  # not "1,000.0 µs"
        (1_500.0, "1.50 ms"),
        (1_035_279.0, "1.04 s"),  # issue 15 quotes `1,035,279.0 us`
        (None, "-"),
        (float("nan"), "-"),
    ],
)
def test_latency_unit_is_chosen_by_size(us, text):
    assert fmt_latency(us) == text


def test_latencies_share_the_unit_of_the_largest():
    assert fmt_latency(800.0, 900.0, 2_500.0) == "0.80 / 0.90 / 2.50 ms"
    assert fmt_latency(12.5, unit="ms") == "0.01 ms" and latency_unit(5e6) == ("s", 1e6)


def _eval_report(**kw):
    from tinyflow.workflows.evaluate import EvalReport

    args = dict(model="m.tflite", model_sha256="0" * 64, target="sim://tflm", dataset="d", task="classification")
    args.update(samples=3, **kw)
    return EvalReport(**args)


def test_eval_text_prints_latency_in_seconds_when_it_is_seconds():
    text = str(_eval_report(latency=metrics.latency([1_035_279.0, 1_040_000.0, 1_100_000.0], wall_seconds=3.2)))
    line = next(line for line in text.splitlines() if "latency p50" in line)
    assert line.endswith(" s") and "1.04 / " in line and "us" not in line


def test_eval_text_does_not_print_none_as_a_task():
    assert "(none)" not in str(_eval_report(task="none", dataset="random:8"))
    assert "(classification)" in str(_eval_report())


def test_terminal_confusion_matrix_shows_class_names():
    cls = metrics.classification([0, 1, 2], [0, 2, 2], num_classes=3)
    text = str(_eval_report(metrics=cls, class_names=["idle", "wave", "punch\x1b[31m"]))
    rows = text.split("confusion matrix")[1].splitlines()
    assert re.search(r"idle\s+wave\s+punch", rows[1]) and rows[3].strip().startswith("wave")
    assert "\x1b" not in text  # class names come from dataset files: no terminal escapes


def test_profile_shows_the_stack_reserve_as_ram_not_flash():
    from tinyflow.targets.machines import qemu_m4 as sim_qemu
    from tinyflow.workflows import profile as prof

    mem = SimpleNamespace(flash_bytes=20000, ram_bytes=5000, stack_bytes=16384)
    emu = sim_qemu.Emulation(elf=None, memory=mem, board="nano33ble", clock_hz=64e6)
    r = prof.build_report(
        model="m.tflite",
        target="sim://qemu-m4",
        info={"runtime": "aot", "ticks_per_second": 1_000_000},
        op_ticks_runs=[[1_000_000, 2_000]],
        total_ticks_runs=[1_002_500],
        op_names=["CONV_2D", "SOFTMAX"],
        stats=None,
        emulation=emu,
    )
    lines = str(r).splitlines()
    flash = next(line for line in lines if line.startswith("flash"))
    ram = next(line for line in lines if line.startswith("static RAM"))
    assert "stack" not in flash and "16,384 B stack reserve" in ram
    assert "time (s)" in lines[1] and next(line for line in lines if line.startswith("latency")).endswith(
        "s (estimate)"
    )


def test_train_report_says_its_metrics_are_validation_metrics():
    from tinyflow.model.train import TrainReport

    text = str(TrainReport("mlp", "digits", 3, 2, metrics={"accuracy": 0.9}))
    assert re.search(r"validation accuracy\s+0\.9000", text)


def test_prune_report_says_float_and_split():
    from tinyflow.model.prune import PruneReport

    text = str(PruneReport("structured 50%", metrics_before={"accuracy": 0.9}, metrics_after={"accuracy": 0.8}))
    assert "accuracy (float model, test split): 0.9000 -> 0.8000" in text


def test_activation_timeline_peak_is_what_tflm_plans_for_activations():
    from conftest import corpus_path
    from tinyflow.inspection import activation_timeline, inspect_model
    from tinyflow.tflite import read_model

    path = corpus_path("tflm/person_detect.tflite")
    live = activation_timeline(read_model(path))
    assert len(live) == 31 and live[0] == 96 * 96 + 48 * 48 * 8  # the input and op 0's output
    # TFLM's own planner (arena head) needs exactly the peak on this chain-shaped graph
    assert max(live) == inspect_model(path).arena.head_bytes == 55_296
