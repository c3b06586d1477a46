"""informative_inputs: seeded inputs whose TFLM outputs are neither saturated nor all alike."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from conftest import corpus_path
from tinyflow.errors import UsageError
from tinyflow.runtimes import tflm
from tinyflow.testing.agreement_inputs import FAMILIES, candidate_pool, informative_inputs, output_limits
from tinyflow.tflite import read_model


def _tensor(shape, dtype, scale=0.0, zp=0):
    return SimpleNamespace(
        shape=shape, dtype=np.dtype(dtype), scale=np.array([scale] if scale else []), zero_point=np.array([zp])
    )


def test_the_pool_is_seeded_and_covers_every_family_in_the_input_types():
    image = _tensor((1, 24, 32, 3), "int8", 0.5, -3)
    audio = _tensor((1, 96), "int16", 0.001, 0)
    model = SimpleNamespace(inputs=[0, 1], tensors=[image, audio])
    a, fams = candidate_pool(model, size=14, seed=3)
    b, _ = candidate_pool(model, size=14, seed=3)
    c, _ = candidate_pool(model, size=14, seed=4)
    assert fams == list(FAMILIES) * 2
    assert all(np.array_equal(x, y) for s, t in zip(a, b) for x, y in zip(s, t))
    assert not np.array_equal(a[0][0], c[0][0])
    assert all(s[0].dtype == np.int8 and s[0].shape == (1, 24, 32, 3) and s[1].dtype == np.int16 for s in a)
    # The int16 input's normal families spread over its own range, not int8 steps.
    assert np.std(a[fams.index("normal64")][1]) > 1000
    # Smooth noise varies slowly along the spatial axes: neighbours are mostly equal.
    smooth = a[fams.index("smooth4")][0].astype(int)
    assert np.mean(smooth[:, 1:] == smooth[:, :-1]) > 0.7 and len(np.unique(smooth)) > 3


def test_saturation_limits_include_one_hot_probabilities_of_any_integer_type():
    """keyword_scrambled's int32 softmax output is [0, 32767] (scale 1/32768): probability 0 and 1."""
    prob = _tensor((1, 2), "int32", 1 / 32768, 0)
    logits = _tensor((1, 3), "int8", 0.1, 5)
    model = SimpleNamespace(outputs=[0, 1], tensors=[prob, logits])
    pool = [[np.array([[0, 32767]]), np.array([[1, -4, 9]])], [np.array([[100, 32667]]), np.array([[-9, 3, 0]])]]
    limits = output_limits(model, pool)
    assert {0, 32767} <= limits[0] and limits[1] == {-128, 127}


def test_vww_gets_distinct_informative_outputs():
    data = corpus_path("mlperf_tiny/vww_96_int8.tflite").read_bytes()
    sel = informative_inputs(data, count=5)
    assert sel.distinct_outputs == 5 and sel.informative == 5 and len(sel.samples) == 5
    # What the selection says TFLM answered is what TFLM answers, and none of it is saturated.
    again = tflm.run(data, sel.samples)
    for ours, theirs in zip(sel.outputs, again):
        assert np.array_equal(ours[0], theirs[0])
        assert not np.isin(theirs[0], [-128, 127]).all()
    assert informative_inputs(data, count=5).families == sel.families  # deterministic


def test_kws_prefers_unsaturated_outputs_over_uniform_noise():
    """Uniform noise (today's random inputs) drives KWS's softmax to mostly -128/127; the selection
    picks inputs with fewer saturated probabilities than the uniform candidates of its own pool."""
    data = corpus_path("mlperf_tiny/kws_ref_model.tflite").read_bytes()
    sel = informative_inputs(data, count=4)
    m = read_model(data)
    pool, fams = candidate_pool(m, 56, 0)
    uniform = tflm.run(data, [s for s, f in zip(pool, fams) if f == "uniform"])
    sat_uniform = min(np.isin(o[0], [-128, 127]).mean() for o in uniform)
    assert max(sel.saturated_fraction) <= sat_uniform and sel.distinct_outputs == 4


def test_a_model_with_one_answer_is_reported_as_such():
    """keyword_scrambled saturates inside whatever its input: the selection says so instead of
    passing constant outputs off as agreement evidence."""
    sel = informative_inputs(corpus_path("tflm/keyword_scrambled_8bit.tflite").read_bytes(), count=3)
    assert sel.pool_distinct_outputs == 1 and sel.distinct_outputs == 1 and sel.informative == 0


def test_bad_counts_are_refused():
    data = corpus_path("tflm/hello_world_int8.tflite").read_bytes()
    with pytest.raises(UsageError):
        informative_inputs(data, count=0)
    with pytest.raises(UsageError):
        informative_inputs(data, count=9, pool=8)
