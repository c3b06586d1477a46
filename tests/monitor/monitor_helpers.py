"""Shared by the monitor tests: a small int8 classifier built without TensorFlow, and its data."""

from __future__ import annotations

import numpy as np

from tinyflow.tflite.writer import ModelBuilder

ROWS, COLS, CLASSES = 16, 8, 4
IN_SCALE = 0.05
# Each column has its own level, so a drift in one column shows in that column's statistics.
COLUMN_MEANS = np.linspace(-2.0, 2.0, COLS)


def classifier_model(seed: int = 0, rows: int = ROWS) -> bytes:
    """int8 [1, rows, 8] -> RESHAPE -> FULLY_CONNECTED (4) -> SOFTMAX (int8, scale 1/256, zp -128)."""
    rng = np.random.default_rng(seed)
    mb = ModelBuilder()
    x = mb.tensor([1, rows, COLS], "int8", scale=IN_SCALE, zero_point=0, name="features")
    flat = mb.tensor([1, rows * COLS], "int8", scale=IN_SCALE, zero_point=0)
    shape = mb.tensor([2], "int32", data=[1, rows * COLS])
    w = mb.tensor(
        [CLASSES, rows * COLS],
        "int8",
        scale=[0.004] * CLASSES,
        zero_point=[0] * CLASSES,
        data=rng.integers(-127, 128, (CLASSES, rows * COLS)),
    )
    b = mb.tensor(
        [CLASSES],
        "int32",
        scale=[IN_SCALE * 0.004] * CLASSES,
        zero_point=[0] * CLASSES,
        data=np.zeros(CLASSES, np.int32),
    )
    logits = mb.tensor([1, CLASSES], "int8", scale=0.05, zero_point=0)
    probs = mb.tensor([1, CLASSES], "int8", scale=1 / 256, zero_point=-128, name="probs")
    mb.op("RESHAPE", [x, shape], [flat], new_shape=[1, rows * COLS])
    mb.op("FULLY_CONNECTED", [flat, w, b], [logits])
    mb.op("SOFTMAX", [logits], [probs], beta=1.0)
    return mb.build(inputs=[x], outputs=[probs])


def float_samples(n: int, seed: int, gain: float = 1.0, noise: float = 0.0, rows: int = ROWS) -> np.ndarray:
    """n windows of [rows, 8] floats: each column around its own mean; gain and noise drift them."""
    rng = np.random.default_rng(seed)
    x = COLUMN_MEANS + rng.normal(0.0, 1.0, (n, rows, COLS))
    return (x * gain + rng.normal(0.0, noise, x.shape) if noise else x * gain).astype(np.float32)


def quantize(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x / IN_SCALE), -128, 127).astype(np.int8).reshape(len(x), 1, -1, COLS)
