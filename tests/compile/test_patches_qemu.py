"""A patched VWW cross-built for Cortex-M4 (DSP kernels) and run on QEMU: every output, stage
outputs included, identical to TFLM, so the DSP kernels compute bands exactly too."""

from __future__ import annotations

import numpy as np
import pytest
from elementwise_kernels import run_tflm
from test_patches_compiled import with_outputs

from conftest import corpus_path, require_tool
from tinyflow.compile import compile_model
from tinyflow.tflite import read_model
from tinyflow.tflite.writer import ModelBuilder

pytestmark = [pytest.mark.arm, pytest.mark.qemu, pytest.mark.slow, pytest.mark.firmware]


def run_on_qemu(model: bytes, patches, n_out: int, samples: int = 2) -> None:
    """Build `model` with `patches` for sim://qemu-m4 (DSP kernels); assert every output equals TFLM's."""
    from tinyflow.build import arm
    from tinyflow.targets import open_target
    from tinyflow.targets.client import DeviceClient
    from tinyflow.targets.machines import qemu_m4 as sim_qemu
    from tinyflow.workflows.device import build_qemu_firmware

    require_tool(arm.COMPILER)
    require_tool(sim_qemu.QEMU)
    m = read_model(model)
    compiled = compile_model(model, name="patched", patches=patches)
    rng = np.random.default_rng(5)
    feeds = [rng.integers(-128, 128, m.tensors[m.inputs[0]].shape, dtype=np.int8) for _ in range(samples)]
    port = open_target("sim://qemu-m4", firmware=build_qemu_firmware(compiled, "nano33ble"), timeout=60.0)
    try:
        client = DeviceClient(port)
        client.handshake()
        got = [client.infer([x]).outputs for x in feeds]
    finally:
        port.close()
    for x, outs in zip(feeds, got):
        want = run_tflm(model, [x], n_out)
        assert len(outs) == n_out
        for k, (g, w) in enumerate(zip(outs, want)):
            np.testing.assert_array_equal(np.asarray(g).ravel(), np.asarray(w).ravel(), err_msg=f"output {k}")


def test_patched_vww_on_qemu_matches_tflm():
    raw = corpus_path("mlperf_tiny/vww_96_int8.tflite").read_bytes()
    m = read_model(raw)
    model = with_outputs(raw, [m.ops[3].outputs[0], m.ops[7].outputs[0]])
    run_on_qemu(model, [(0, 3, 1), (4, 7, 2)], 3)


def test_patched_pooling_stack_on_qemu_matches_tflm():
    """Conv, max pool, average pool (SAME: padded windows), strided depthwise, in 1-row bands."""
    rng = np.random.default_rng(7)
    mb = ModelBuilder()
    x = mb.tensor([1, 17, 9, 4], "int8", 0.05, 3)
    f = mb.tensor([8, 3, 3, 4], "int8", [0.01] * 8, [0] * 8, data=rng.integers(-127, 128, (8, 3, 3, 4)))
    a = mb.tensor([1, 17, 9, 8], "int8", 0.04, -5)
    mb.op("CONV_2D", [x, f, -1], [a], padding="SAME", fused_activation_function="RELU")
    b = mb.tensor([1, 8, 4, 8], "int8", 0.04, -5)
    mb.op("MAX_POOL_2D", [a], [b], padding="VALID", stride_h=2, stride_w=2, filter_height=3, filter_width=2)
    c = mb.tensor([1, 8, 4, 8], "int8", 0.04, -5)
    mb.op("AVERAGE_POOL_2D", [b], [c], padding="SAME", stride_h=1, stride_w=1, filter_height=3, filter_width=3)
    w = mb.tensor(
        [1, 3, 3, 8], "int8", [0.02] * 8, [0] * 8, data=rng.integers(-127, 128, (1, 3, 3, 8)), quantized_dimension=3
    )
    y = mb.tensor([1, 4, 2, 8], "int8", 0.05, 2)
    bias = mb.tensor([8], "int32", [0.0008] * 8, [0] * 8, data=rng.integers(-300, 300, 8))
    mb.op("DEPTHWISE_CONV_2D", [c, w, bias], [y], padding="SAME", stride_h=2, stride_w=2, depth_multiplier=1)
    run_on_qemu(mb.build([x], [y]), [(0, 3, 1)], 1)
