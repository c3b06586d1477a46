"""Evaluation inputs: random:N, dataset quantization, shape checks."""

import numpy as np
import pytest

from tinyflow.errors import DataError, UsageError
from tinyflow.workflows.eval_data import TensorSpec, load_eval_data

INT8 = TensorSpec("in", (1, 8, 8, 1), np.dtype(np.int8), scale=16 / 255, zero_point=-128)


def test_random_is_seeded_and_matches_dtype_and_shape():
    spec = [TensorSpec("a", (1, 96), np.dtype(np.int16)), TensorSpec("b", (1, 3), np.dtype(np.float32))]
    a = load_eval_data("random:5", spec, seed=1)
    b = load_eval_data("random:5", spec, seed=1)
    c = load_eval_data("random:5", spec, seed=2)
    assert len(a) == 5 and a.task == "none" and a.labels is None
    assert a.inputs[0][0].dtype == np.int16 and a.inputs[0][0].shape == (1, 96)
    assert a.inputs[0][1].dtype == np.float32
    assert a.digest() == b.digest() != c.digest()
    assert len(load_eval_data("random:5", spec, limit=2)) == 2
    # the whole int16 range is used, not just small values
    assert np.abs(np.concatenate([s[0].ravel() for s in a.inputs]).astype(np.int32)).max() > 10_000


@pytest.mark.parametrize("bad", ["random:", "random:0", "random:x"])
def test_random_spec_errors(bad):
    with pytest.raises(UsageError, match="random:N"):
        load_eval_data(bad, [INT8])


def test_quantize_rounds_half_away_from_zero_and_saturates():
    s = TensorSpec("x", (1, 6), np.dtype(np.int8), scale=0.5, zero_point=0)
    q = s.quantize(np.array([0.25, -0.25, 0.75, 100.0, -100.0, 0.0]))
    assert q.tolist() == [1, -1, 2, 127, -128, 0]
    assert s.dequantize(q).tolist() == [0.5, -0.5, 1.0, 63.5, -64.0, 0.0]


def test_digits_are_quantized_with_the_input_scale():
    data = load_eval_data("digits", [INT8], limit=20)
    assert len(data) == 20 and data.task == "classification" and data.labels.shape == (20,)
    q = data.inputs[0][0]
    assert q.dtype == np.int8 and q.shape == (1, 8, 8, 1)
    expected = np.clip(np.floor(data.features[0] / INT8.scale + 0.5) - 128, -128, 127)
    assert q.ravel().tolist() == expected.astype(np.int8).tolist()


def test_wrong_sample_size_is_a_data_error():
    with pytest.raises(DataError, match=r"samples of shape \(8, 8, 1\) \(64 values\).*\(1, 49, 10, 1\) \(490 values\)"):
        load_eval_data("digits", [TensorSpec("in", (1, 49, 10, 1), np.dtype(np.int8), 1.0, 0)], limit=3)


def test_limit_must_be_positive():
    with pytest.raises(UsageError, match="--limit"):
        load_eval_data("random:3", [INT8], limit=0)
