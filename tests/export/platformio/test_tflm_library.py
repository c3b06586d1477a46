"""Per-channel FULLY_CONNECTED weights, which the pinned TFLM library ignores, are refused at
generation and listed by `inspect` (issue #11, defect 3)."""

import numpy as np
import pytest

from tinyflow.errors import ModelError
from tinyflow.export.platformio import plan_project, tflm_library
from tinyflow.tflite import read_model
from tinyflow.tflite.writer import ModelBuilder


def _dense(per_channel: bool) -> bytes:
    mb = ModelBuilder()
    x = mb.tensor([1, 4], "int8", scale=0.05, zero_point=-3)
    scale = [0.01, 0.02, 0.03] if per_channel else 0.02
    w = mb.tensor(
        [3, 4],
        "int8",
        scale=scale,
        zero_point=[0, 0, 0] if per_channel else 0,
        data=np.arange(12, dtype=np.int8).reshape(3, 4),
        name="dense/kernel",
    )
    b = mb.tensor(
        [3],
        "int32",
        scale=[0.0005, 0.001, 0.0015] if per_channel else 0.001,
        zero_point=[0, 0, 0] if per_channel else 0,
        data=np.zeros(3, np.int32),
    )
    y = mb.tensor([1, 3], "int8", scale=0.1, zero_point=2)
    mb.op("FULLY_CONNECTED", [x, w, b], [y])
    return mb.build(inputs=[x], outputs=[y])


@pytest.mark.parametrize("board", ["nano33ble", "esp32dev", "rpipico"])
def test_per_channel_dense_weights_are_refused_for_the_pinned_library(board):
    with pytest.raises(
        ModelError,
        match=r"FULLY_CONNECTED #0 has per-channel weights \(3 scales in 'dense/kernel'\)"
        r".*Arduino_TensorFlowLite 7948b85.*ignores",
    ) as info:
        plan_project(_dense(per_channel=True), board, "tflm", measured_arena_bytes=1024)
    assert "--runtime aot" in info.value.hint


def test_per_tensor_dense_weights_are_generated():
    plan = plan_project(_dense(per_channel=False), "nano33ble", "tflm", measured_arena_bytes=1024)
    assert "lib/tinyflow_model/src/model_tflm.cpp" in plan.files


def test_the_compiled_runtime_takes_per_channel_dense_weights():
    plan = plan_project(_dense(per_channel=True), "nano33ble", "aot")
    assert plan.files


def test_incompatibilities_are_listed_per_op():
    issues = tflm_library.incompatibilities(read_model(_dense(per_channel=True)))
    assert len(issues) == 1 and "per-channel" in issues[0]
    assert tflm_library.incompatibilities(read_model(_dense(per_channel=False))) == []


def test_inspect_lists_the_library_incompatibility():
    from tinyflow.inspection import inspect_model

    report = inspect_model(_dense(per_channel=True), arena=False)
    assert "per-channel weights" in str(report)
    assert report.to_dict()["tflm"]["library_issues"] == tflm_library.incompatibilities(read_model(_dense(True)))
