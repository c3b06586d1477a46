"""All four benchmarks on sim://host and sim://qemu-m4: the DUT answers what the TFLM reference
kernels answer under the reference I/O conventions, to the printed digit, through tinyflow's
client (tinyflow.mlperf.dut) and through the independent runner-like client (eembc_client.py)
on the served pseudo-terminal."""

from __future__ import annotations

import pytest
from eembc_client import RunnerLikeClient
from mlperf_helpers import MODELS, wire_input

from conftest import corpus_path, require_tool
from tinyflow.mlperf.benchmarks import BENCHMARKS
from tinyflow.mlperf.reference import ReferenceDut

SEEDS = (11, 12)
TARGETS = [
    pytest.param("sim://host", marks=pytest.mark.firmware),
    pytest.param("sim://qemu-m4", marks=[pytest.mark.qemu, pytest.mark.slow]),
]


def reference_results(data: bytes, benchmark: str) -> list[list[float]]:
    ref = ReferenceDut(data, BENCHMARKS[benchmark])
    try:
        out = []
        for seed in SEEDS:
            ref.load(wire_input(benchmark, seed))
            out.append(ref.infer(1, 0).results)
        return out
    finally:
        ref.close()


def require(target: str) -> None:
    require_tool("cc")
    if "qemu" in target:
        require_tool("qemu-system-arm")
        require_tool("arm-none-eabi-gcc")


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("benchmark", list(MODELS))
def test_served_dut_matches_the_reference_through_the_runner_like_client(benchmark, target):
    from tinyflow.mlperf.serve import serve_dut

    require(target)
    data = corpus_path(MODELS[benchmark]).read_bytes()
    want = reference_results(data, benchmark)
    dev = serve_dut(data, benchmark, target)
    try:
        with RunnerLikeClient(dev.path, timeout=20) as dut:
            # The first reply is the name's own: on QEMU the boot lines were read before serving.
            assert dut.get_name() is not None
            assert dut.get_profile() == {"profile": "ULPMark for tinyML Firmware V0.0.1", "model": benchmark}
            for seed, expected in zip(SEEDS, want):
                assert dut.load(wire_input(benchmark, seed))[0] == "m-load-done"
                got = dut.infer(1, 0)
                assert got["results"] == expected
                assert got["elapsed_time"] > 0
    finally:
        dev.close()


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("benchmark", list(MODELS))
def test_tinyflow_client_on_the_target_matches_the_reference(benchmark, target):
    from tinyflow.mlperf.benchmarks import target_url
    from tinyflow.mlperf.dut import EembcDut
    from tinyflow.workflows.device import open_device

    require(target)
    data = corpus_path(MODELS[benchmark]).read_bytes()
    want = reference_results(data, benchmark)
    port = open_device(target_url(target, BENCHMARKS[benchmark]), model=data, timeout=0.5)
    try:
        # On QEMU the firmware prints the reference boot lines once the link is up, possibly after
        # the first command went out: the client must not take them for the reply.
        dut = EembcDut(port, timeout=30)
        assert dut.model() == benchmark
        for seed, expected in zip(SEEDS, want):
            dut.load(wire_input(benchmark, seed))
            assert dut.infer(2, 1).results == expected  # warm-ups and repeats see the same input
            assert dut.results() == expected
    finally:
        port.close()
