"""Every H8 op in one model, cross-built for Cortex-M4 and run on QEMU (sim://qemu-m4):
identical to TFLM, so the kernels' integer behaviour holds on a 32-bit target too."""

from __future__ import annotations

import numpy as np
import pytest
from elementwise_kernels import rand_int, run_tflm

from conftest import require_tool
from tinyflow.tflite import read_model
from tinyflow.tflite.writer import ModelBuilder

pytestmark = [pytest.mark.arm, pytest.mark.qemu, pytest.mark.slow]


def all_ops_model() -> bytes:
    """Each H8 op on its own branch (fixed shapes and parameters), plus RELU -> RESHAPE -> SOFTMAX."""
    mb, ins, outs = ModelBuilder(), [], []

    def t(shape, dtype="int8", q=(0.05, -3), inp=False, out=False):
        i = mb.tensor(shape, dtype, *q) if q else mb.tensor(shape, dtype)
        (ins if inp else outs if out else []).append(i)
        return i

    mb.op(
        "ADD",
        [t([1, 4, 4, 3], inp=True), t([1, 1, 1, 3], q=(0.02, 5), inp=True)],
        [t([1, 4, 4, 3], q=(0.07, 1), out=True)],
        fused_activation_function="RELU",
    )
    mb.op("MUL", [t([2, 3, 4], inp=True), t([4], q=(0.03, -9), inp=True)], [t([2, 3, 4], q=(0.02, 4), out=True)])
    mb.op("LOGISTIC", [t([3, 7], q=(0.1, 2), inp=True)], [t([3, 7], q=(1 / 256, -128), out=True)])
    mb.op("TANH", [t([3, 7], q=(0.04, -6), inp=True)], [t([3, 7], q=(1 / 128, 0), out=True)])
    mb.op("RELU6", [t([10], q=(0.05, -20), inp=True)], [t([10], q=(0.05, -20), out=True)])
    mb.op("SOFTMAX", [t([2, 5], q=(0.2, 0), inp=True)], [t([2, 5], "int16", (1 / 65536, -32768), out=True)], beta=1.0)
    r = t([1, 2, 6], q=(0.06, 3))
    mb.op("RELU", [t([1, 2, 6], inp=True)], [r])
    flat = t([1, 12], q=(0.06, 3))
    mb.op("RESHAPE", [r, mb.tensor([2], "int32", data=[1, 12])], [flat], new_shape=[1, 12])
    mb.op("SOFTMAX", [flat], [t([1, 12], q=(1 / 256, -128), out=True)], beta=1.0)
    mb.op(
        "MEAN",
        [t([1, 5, 5, 4], inp=True), mb.tensor([2], "int32", data=[1, 2])],
        [t([1, 1, 1, 4], q=(0.01, 7), out=True)],
        keep_dims=True,
    )
    mb.op("CONCATENATION", [t([2, 3], inp=True), t([2, 2], inp=True)], [t([2, 5], out=True)], axis=1)
    mb.op(
        "PAD",
        [t([1, 3, 3, 2], inp=True), mb.tensor([4, 2], "int32", data=[[0, 0], [1, 2], [2, 1], [0, 0]])],
        [t([1, 6, 6, 2], out=True)],
    )
    mb.op("QUANTIZE", [t([6], "float32", None, inp=True)], [t([6], q=(0.03, -4), out=True)])
    mb.op("QUANTIZE", [t([6], q=(0.1, 10), inp=True)], [t([6], q=(0.04, -2), out=True)])
    mb.op("DEQUANTIZE", [t([6], inp=True)], [t([6], "float32", None, out=True)])
    return mb.build(ins, outs)


def test_all_h8_ops_on_qemu_match_tflm():
    from tinyflow.build import arm
    from tinyflow.targets.client import DeviceClient
    from tinyflow.targets.machines import qemu_m4 as sim_qemu
    from tinyflow.workflows.device import open_device

    require_tool(arm.COMPILER)
    require_tool(sim_qemu.QEMU)
    model = all_ops_model()
    m = read_model(model)
    rng = np.random.default_rng(4)
    feeds = [
        rand_int(rng, m.tensors[i].shape, m.tensors[i].dtype.name)
        if m.tensors[i].type_name != "FLOAT32"
        else (rng.standard_normal(m.tensors[i].shape) * 0.2).astype(np.float32)
        for i in m.inputs
    ]
    want = run_tflm(model, feeds, len(m.outputs))
    port = open_device("sim://qemu-m4?board=nano33ble", model=model, timeout=20.0)
    try:
        client = DeviceClient(port)
        client.handshake()
        got = client.infer(feeds).outputs
    finally:
        port.close()
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_array_equal(
            np.asarray(g).reshape(-1).view(np.uint8), np.asarray(w).reshape(-1).view(np.uint8), err_msg=f"output {k}"
        )
