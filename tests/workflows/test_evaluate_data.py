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


# -- bounded and lazy: nothing is made before the checks, sample i never depends on N --


def test_random_sample_i_does_not_depend_on_how_many_were_asked():
    spec = [TensorSpec("a", (1, 16), np.dtype(np.int8))]
    few, many = load_eval_data("random:5", spec, seed=4), load_eval_data("random:500", spec, seed=4)
    assert all(np.array_equal(few.inputs[i][0], many.inputs[i][0]) for i in range(5))
    assert np.array_equal(load_eval_data("random:500", spec, seed=4, limit=3).inputs[2][0], many.inputs[2][0])
    assert few.inputs[4][0].tolist() == few.inputs[4][0].tolist() and len(list(few.inputs)) == 5
    with pytest.raises(IndexError):
        few.inputs[5]


@pytest.mark.parametrize("n", ["99999999999999999999", "1000001"])
def test_random_count_has_an_upper_bound(n):
    with pytest.raises(UsageError, match=r"random:N allows at most 1,000,000 samples"):
        load_eval_data(f"random:{n}", [INT8])


def test_random_inputs_are_made_lazily():
    import tracemalloc

    big = TensorSpec("in", (1, 96, 96, 3), np.dtype(np.int8))  # 27 KB a sample, 27 GB for a million
    tracemalloc.start()
    try:
        data = load_eval_data("random:1000000", [big], outputs=[TensorSpec("o", (1, 2), np.dtype(np.int8))])
        digest = data.digest()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(data) == 1_000_000 and peak < 5 << 20 and len(digest) == 64
    assert data.inputs[999_999][0].shape == (1, 96, 96, 3)


def test_results_kept_in_memory_bound_the_sample_count():
    wide = [TensorSpec("o", (1, 100_000), np.dtype(np.int8))]  # 100 KB of output a sample
    with pytest.raises(UsageError, match=r"at most [0-9,]+ samples of this model.*--count"):
        load_eval_data("random:100000", [INT8], outputs=wide)
    assert len(load_eval_data("random:100000", [INT8], outputs=wide, limit=100)) == 100


def test_a_huge_input_tensor_is_refused_before_any_input_is_made():
    huge = TensorSpec("in", (1, 1024, 1024, 1024), np.dtype(np.int8))  # 1 GiB a sample
    with pytest.raises(DataError, match=r"input 'in' takes 1,073,741,824 B a sample"):
        load_eval_data("random:1", [huge])
    with pytest.raises(DataError, match=r"input 'in' takes 1,073,741,824 B a sample"):
        load_eval_data("digits", [huge])


def test_negative_seed_is_a_usage_error():
    with pytest.raises(UsageError, match="seed"):
        load_eval_data("random:3", [INT8], seed=-1)


def _classes(n):
    return [TensorSpec("probs", (1, n), np.dtype(np.int8), 1 / 256, -128)]


def test_labels_outside_the_model_classes_are_a_data_error(tmp_path):
    path = tmp_path / "d.npz"
    y = np.arange(20) % 13  # labels 0..12 for a 12-class model
    np.savez(path, x=np.zeros((20, 64), np.float32), y=y)
    with pytest.raises(
        DataError,
        match=r"must be in \[0, 11\] \(the model's first output 'probs' has 12 values\): "
        r"label 12 in sample 12",
    ):
        load_eval_data(str(path), [INT8], outputs=_classes(12))
    assert len(load_eval_data(str(path), [INT8], outputs=_classes(12), limit=12)) == 12
    np.savez(path, x=np.zeros((10, 64), np.float32), y=np.r_[np.zeros(9, np.int64), 3000])
    with pytest.raises(DataError, match=r"label 3000 in sample 9"):
        load_eval_data(str(path), [INT8], outputs=_classes(10))
    # one sigmoid unit: a binary classifier, classes 0 and 1
    np.savez(path, x=np.zeros((3, 64), np.float32), y=np.array([0, 1, 2]))
    with pytest.raises(DataError, match=r"must be in \[0, 1\].*label 2 in sample 2"):
        load_eval_data(str(path), [INT8], outputs=_classes(1))


def test_a_negative_input_dimension_is_a_data_error():
    with pytest.raises(DataError, match=r"shape \(-1, 3\): a negative size"):
        load_eval_data("random:1", [TensorSpec("in", (-1, 3), np.dtype(np.int8))])


@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), -1.0, 0])
def test_evaluate_refuses_a_timeout_that_never_comes(timeout):
    from conftest import corpus_path
    from tinyflow.workflows.config import EvalConfig
    from tinyflow.workflows.evaluate import evaluate

    with pytest.raises(UsageError, match="timeout must be a finite number"):
        evaluate(
            EvalConfig(
                corpus_path("tflm/hello_world_int8.tflite"), dataset="random:2", target="sim://tflm", timeout=timeout
            )
        )


def test_an_empty_split_is_a_data_error(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.zeros((2, 64), np.float32), y=np.array([0, 1]))
    with pytest.raises(DataError, match="has no samples.*test split"):
        load_eval_data(str(path), [INT8], split="test")
