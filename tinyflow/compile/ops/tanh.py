"""TANH int8: TFLM's TanhPrepare on the host (same parameters as LOGISTIC)."""

from __future__ import annotations

from tinyflow.compile.ops.logistic import sigmoid_params


def prepare(shape, input_q: tuple[float, int]) -> dict:
    """tinyflow_sigmoid_params_t fields. TFLM ignores the output parameters (1/128, 0 by convention)."""
    return sigmoid_params(shape, input_q)
