"""Every intermediate tensor of the firmware on sim://qemu-m4 (Cortex-M4 DSP kernels) against TFLM's
(tinyflow.workflows.intermediates_qemu): the trace written through semihosting, op by op."""

from __future__ import annotations

import pytest

from tests.conftest import corpus_path, require_tool
from tinyflow.errors import ModelError
from tinyflow.workflows.intermediates_qemu import (
    RECORD,
    compare_traced,
    parse_trace,
    run_traced,
    trace_entries,
    trace_table_c,
)


def _compiled(rel: str):
    from tinyflow.compile import compile_model

    return compile_model(corpus_path(rel).read_bytes(), name="model")


def _samples(rel: str, count: int):
    from tinyflow.testing.agreement_inputs import informative_inputs

    return informative_inputs(corpus_path(rel).read_bytes(), count=count).samples


def _trace(compiled, sample_outputs: list[dict[int, bytes]]) -> bytes:
    """A trace file as trace.c writes it, for the given per-sample {tensor: bytes}."""
    out = b""
    for outputs in sample_outputs:
        for k, t, _, _ in trace_entries(compiled):
            out += RECORD.pack(k, t, len(outputs[t])) + outputs[t]
    return out


def test_trace_table_lists_every_planned_op_output():
    compiled = _compiled("mlperf_tiny/kws_ref_model.tflite")
    entries = trace_entries(compiled)
    assert [t for _, t, _, _ in entries] == [t for outs in compiled.op_outputs for t in outs]
    text = trace_table_c(compiled)
    assert f"tinyflow_trace_count = {len(entries)}u;" in text
    k, t, off, n = entries[-1]
    assert f"{{{k}u, {t}u, {off}u, {n}u}}," in text


def test_parse_trace_splits_inferences_and_checks_sizes():
    compiled = _compiled("mlperf_tiny/kws_ref_model.tflite")
    sizes = {t: n for _, t, _, n in trace_entries(compiled)}
    one = {t: bytes([s]) * n for t, n in sizes.items() for s in [7]}
    two = {t: bytes([9]) * n for t, n in sizes.items()}
    parsed = parse_trace(_trace(compiled, [one, two]), compiled, 2)
    assert len(parsed) == 2
    assert all((a == 7).all() for a in parsed[0].values()) and all((a == 9).all() for a in parsed[1].values())
    data = _trace(compiled, [one])
    with pytest.raises(ModelError, match="holds 1 inferences, 2 were sent"):
        parse_trace(data, compiled, 2)
    with pytest.raises(ModelError, match="ends inside"):
        parse_trace(data[:-1], compiled, 1)
    k, t, _, n = trace_entries(compiled)[0]
    with pytest.raises(ModelError, match="bad record at byte 0"):  # a size the plan does not have
        parse_trace(RECORD.pack(k, t, n + 1) + b"\0" * (n + 1), compiled, 1)


@pytest.fixture(scope="module")
def kws_run():
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    rel = "mlperf_tiny/kws_ref_model.tflite"
    compiled, samples = _compiled(rel), _samples(rel, 3)
    return compiled, samples, run_traced(compiled, samples)


@pytest.mark.arm
@pytest.mark.qemu
@pytest.mark.slow
def test_kws_bit_exact_op_by_op_on_qemu(kws_run):
    compiled, samples, raw = kws_run
    report = compare_traced(compiled, samples, parse_trace(raw, compiled, len(samples)))
    assert report.first_difference is None, str(report.first_difference)
    assert report.ops_compared == len(compiled.op_outputs) and report.ops_not_traced == 0
    assert report.samples == 3


@pytest.mark.arm
@pytest.mark.qemu
@pytest.mark.slow
def test_corrupted_trace_byte_is_reported_at_its_op(kws_run):
    compiled, samples, raw = kws_run
    data = bytearray(raw)
    pos, target = 0, len(compiled.op_outputs) // 2
    while True:  # walk sample 0's records to the target op's bytes
        op, t, n = RECORD.unpack_from(data, pos)
        pos += RECORD.size
        if op == target:
            break
        pos += n
    data[pos + n // 2] ^= 0x01
    report = compare_traced(compiled, samples, parse_trace(bytes(data), compiled, len(samples)))
    diff = report.first_difference
    assert diff is not None and (diff.sample, diff.op_index) == (0, target)
    assert diff.tensor == compiled.model.tensors[t].name
    assert (diff.elements_differing, diff.max_abs_diff) == (1, 1)


@pytest.mark.arm
@pytest.mark.qemu
@pytest.mark.slow
def test_vww_bit_exact_op_by_op_on_qemu():
    from tinyflow.workflows.intermediates_qemu import compare_intermediates_on_qemu

    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    rel = "mlperf_tiny/vww_96_int8.tflite"
    compiled = _compiled(rel)
    report = compare_intermediates_on_qemu(compiled, _samples(rel, 2))
    assert report.first_difference is None, str(report.first_difference)
    assert report.ops_compared == len(compiled.op_outputs) and report.tensors_compared >= report.ops_compared


def test_agreement_table_has_the_dsp_column():
    import importlib

    agreement = importlib.import_module("bench.agreement")
    base = {
        "selection": {
            "count": 2,
            "families": ["normal8"],
            "informative": 2,
            "distinct_outputs": 2,
            "pool": 8,
            "pool_distinct_outputs": 5,
            "saturated_fraction": [0.5, 0.5],
        },
        "uniform_distinct": 1,
        "uniform_saturated": 0.9,
        "intermediates": {"ops_compared": 13, "ops_not_traced": 0, "tensors_compared": 13, "samples": 2},
        "first_difference": None,
    }
    rows = [
        {**base, "model": "a/kws.tflite", "dsp_qemu": {"ops_compared": 13, "first_difference": None}},
        {**base, "model": "a/ic.tflite", "dsp_qemu": {"ops_compared": 9, "first_difference": "sample 1, op 3 (X)"}},
        {**base, "model": "a/big.tflite", "dsp_qemu": {"error": "BoardError: too big"}},
    ]
    lines = agreement.markdown({"samples": 2, "rows": rows}).splitlines()
    header = next(ln for ln in lines if ln.startswith("| model |"))
    assert header.rstrip(" |").endswith("DSP kernels on sim://qemu-m4: first difference")
    cells = {ln.split("|")[1].strip(): ln.rstrip(" |").rsplit("|", 1)[1].strip() for ln in lines if ln.startswith("| ")}
    assert cells["kws"] == "none: bit-exact (13 ops)"
    assert cells["ic"] == "sample 1, op 3 (X)"
    assert cells["big"] == "failed: BoardError: too big"
    assert all(ln.count("|") == header.count("|") for ln in lines if ln.startswith("| ") and "a/" not in ln)
