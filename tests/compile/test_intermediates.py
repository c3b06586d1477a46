"""Every intermediate tensor of the compiled runtime (host build, the real memory plan) is
bit-exact with TFLite Micro's on the corpus, for inputs whose outputs are informative."""

from __future__ import annotations

import re

import numpy as np
import pytest

from conftest import CORPUS, corpus_path
from tinyflow.compile import compile_model
from tinyflow.runtimes.intermediates import compare_intermediates, compiled_intermediates, tflm_intermediates
from tinyflow.testing.agreement_inputs import informative_inputs

pytestmark = pytest.mark.firmware


@pytest.mark.parametrize("rel", CORPUS, ids=lambda p: p.split("/")[-1][:-7])
def test_every_intermediate_tensor_matches_tflm(rel):
    data = corpus_path(rel).read_bytes()
    compiled = compile_model(data, name=rel.split("/")[-1][:-7])
    report = compare_intermediates(compiled, informative_inputs(data, count=3).samples)
    assert report.first_difference is None, str(report.first_difference)
    assert report.ops_compared == len(compiled.op_names) and report.ops_not_traced == 0
    assert report.tensors_compared >= len(compiled.op_names) and report.samples == 3


def test_a_corrupted_intermediate_is_found_at_its_op():
    """An op whose output is wrong (one byte flipped right after it runs) is named, with its tensor,
    even though the model's final output may hide it."""
    data = corpus_path("mlperf_tiny/kws_ref_model.tflite").read_bytes()
    compiled = compile_model(data, name="kws")
    k = 4
    t = compiled.op_outputs[k][0]
    c_file = next(iter(compiled.sources))
    text, n = re.subn(
        rf"  TF_TRACE\({k}\);",
        f"  TF_T{t}[7] = (uint8_t)(TF_T{t}[7] ^ 0x10u);\n  TF_TRACE({k});",
        compiled.sources[c_file],
    )
    assert n == 1
    compiled.sources[c_file] = text
    report = compare_intermediates(compiled, informative_inputs(data, count=2).samples)
    diff = report.first_difference
    assert diff is not None and diff.op_index == k and diff.sample == 0
    assert diff.tensor == compiled.model.tensors[t].name and diff.elements_differing == 1
    assert diff.max_abs_diff == 16 and f"op {k} ({compiled.op_names[k]})" in str(diff)


def test_intermediates_are_read_when_produced_not_after_invoke():
    """The planner reuses arena bytes: an early tensor's bytes are overwritten by later ops, so
    reading the arena after invoke would compare garbage. The trace copies each at its op."""
    data = corpus_path("mlperf_tiny/kws_ref_model.tflite").read_bytes()
    compiled = compile_model(data, name="kws")
    samples = informative_inputs(data, count=1).samples
    ours = compiled_intermediates(compiled, samples)[0]
    first = compiled.op_outputs[0][0]
    last = compiled.op_outputs[-1][0]
    offsets = compiled.plan.offsets
    m = compiled.model
    # The first op's output shares bytes with some later tensor in the plan.
    assert any(
        u != first
        and offsets[u] < offsets[first] + m.tensors[first].nbytes
        and offsets[first] < offsets[u] + m.tensors[u].nbytes
        for u in offsets
        if u not in m.inputs
    )
    theirs = tflm_intermediates(m, samples, [first, last])[0]
    assert np.array_equal(ours[first], theirs[first]) and np.array_equal(ours[last], theirs[last])


def test_the_default_build_has_no_trace_calls():
    """TF_TRACE expands to nothing unless TINYFLOW_TRACE_OPS is defined: no cost on the board."""
    compiled = compile_model(corpus_path("tflm/hello_world_int8.tflite").read_bytes(), name="hello")
    text = next(iter(compiled.sources.values()))
    assert "#ifdef TINYFLOW_TRACE_OPS" in text and "#define TF_TRACE(k) ((void)0)" in text
    assert text.count("TF_TRACE(") == 2 + len(compiled.op_names)


def test_patch_based_stages_are_compared_where_their_tensors_are_whole():
    """Ops inside a patch-based stage never hold a whole output, so they are not traced (and said
    so); every other op's output, the stage's result included, is compared."""
    data = corpus_path("mlperf_tiny/vww_96_int8.tflite").read_bytes()
    compiled = compile_model(data, name="vww", max_ram=30_000)
    assert compiled.stages
    report = compare_intermediates(compiled, informative_inputs(data, count=2).samples)
    assert report.first_difference is None, str(report.first_difference)
    assert report.ops_not_traced >= 1 and report.ops_compared + report.ops_not_traced == len(compiled.op_names)
