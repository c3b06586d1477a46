"""The monitor's bounded cost (firmware/src/monitor.c): inputs of more than SAMPLE_ROWS rows are
subsampled (every k-th row from row 0, k = ceil(rows / SAMPLE_ROWS)) with counts of the sampled
rows, and the top-1 class of an 8-bit output is the FIRST largest value, on the portable build
(sim://host) and on the Cortex-M4 DSP build (sim://qemu-m4, a two-pass SIMD argmax)."""

from __future__ import annotations

import numpy as np
import pytest
from monitor_helpers import COLS, classifier_model

from conftest import require_tool
from tinyflow.monitor.profile import from_device
from tinyflow.monitor.reference import SAMPLE_ROWS, observe, sample_step
from tinyflow.targets.client import DeviceClient
from tinyflow.tflite.writer import ModelBuilder

pytestmark = pytest.mark.firmware


def _host(model: bytes, defines=None):
    from tinyflow.build.host import build_host_firmware
    from tinyflow.compile import compile_model
    from tinyflow.targets.machines.host import ProcessPort

    return ProcessPort([build_host_firmware(compile_model(model, name="model"), defines=defines)], timeout=10.0)


def _read(port, xs: np.ndarray):
    """(device profile, outputs) after a reset and one INFER per window."""
    try:
        client = DeviceClient(port, timeout=30.0)
        client.handshake()
        client.monitor(reset=True)
        outs = [r.outputs[0] for r in client.infer_many(list(xs), window=3)]
        device = from_device(client.monitor())
    finally:
        port.close()
    return device, np.stack(outs)


def test_sample_step_rule():
    assert [sample_step(r) for r in (1, SAMPLE_ROWS, SAMPLE_ROWS + 1, 4100, 9216)] == [1, 1, 2, 5, 9]


@pytest.mark.parametrize("rows, step", [(SAMPLE_ROWS, 1), (4100, 5)])
def test_large_inputs_are_subsampled_with_true_counts(rows, step):
    """Statistics equal numpy's over exactly rows 0, k, 2k, ... of each window; counts are theirs."""
    require_tool("cc")
    rng = np.random.default_rng(rows)
    xs = rng.integers(-128, 128, (4, 1, rows, COLS), dtype=np.int8)
    if step > 1:
        xs[:, :, 1::step] = 127  # unsampled rows at the limit: counting them would show
    device, _ = _read(_host(classifier_model(rows=rows)), xs)
    v = xs[:, 0, ::step].reshape(-1, COLS).astype(np.int64)
    sampled = -(-rows // step)
    assert len(v) == 4 * sampled
    assert list(device.count) == [4 * sampled] * COLS
    assert device.elements == 4 * sampled * COLS
    assert list(device.sum) == list(v.sum(axis=0))
    assert list(device.sumsq) == list((v * v).sum(axis=0))
    hist = np.stack([np.bincount((v[:, c] + 128) >> 4, minlength=16) for c in range(COLS)])
    assert np.array_equal(device.hist, hist)
    assert device.saturated == int(((v == -128) | (v == 127)).sum())


def test_a_larger_sample_size_keeps_every_row():
    """-DTINYFLOW_MONITOR_SAMPLE_ROWS raises N: 4,100 rows are then all counted (the rule is N's)."""
    require_tool("cc")
    xs = np.random.default_rng(1).integers(-128, 128, (2, 1, 4100, COLS), dtype=np.int8)
    port = _host(classifier_model(rows=4100), defines={"TINYFLOW_MONITOR_SAMPLE_ROWS": 8192})
    device, _ = _read(port, xs)
    assert list(device.count) == [2 * 4100] * COLS
    assert list(device.sum) == list(xs.reshape(-1, COLS).astype(np.int64).sum(axis=0))


def passthrough_model(n: int, dtype: str) -> bytes:
    """[1, n] -> RESHAPE -> [1, n] (output 0 = the input: its argmax is chosen by the test)."""
    zp = -128 if dtype == "int8" else 0
    mb = ModelBuilder()
    x = mb.tensor([1, n], dtype, scale=1 / 256, zero_point=zp, name="x")
    shape = mb.tensor([2], "int32", data=[1, n])
    y = mb.tensor([1, n], dtype, scale=1 / 256, zero_point=zp, name="y")
    mb.op("RESHAPE", [x, shape], [y], new_shape=[1, n])
    return mb.build(inputs=[x], outputs=[y])


def tied_outputs(n: int, dtype: str, seed: int) -> np.ndarray:
    """Windows whose maximum repeats: few distinct values, the type's extremes, the max in the tail."""
    info = np.iinfo(dtype)
    rng = np.random.default_rng(seed)
    lo, hi = int(info.min), int(info.max)
    xs = rng.integers(hi - 3, hi + 1, (40, 1, n)).astype(dtype)  # 4 values: ties everywhere
    xs[20:30] = rng.integers(lo, lo + 3, (10, 1, n))  # near the minimum (int8: signed order matters)
    xs[30] = lo  # all equal: index 0
    xs[31] = hi
    xs[32] = lo
    xs[32, 0, [n - 1, n - 2]] = lo + 1  # the max only in the tail, twice: the first of them
    xs[33] = lo
    xs[33, 0, [5, 4, n - 1] if n > 5 else [n - 1]] = hi  # within one word and after it: the first
    xs[34] = rng.permutation(np.arange(lo, lo + n)).astype(dtype)  # one max anywhere
    return xs


def _check_first_argmax(device, xs, outs, dtype):
    want = np.argmax(outs.reshape(len(outs), -1), axis=1)  # numpy: the first maximum
    assert np.array_equal(outs.reshape(xs.shape), xs)
    assert np.array_equal(device.class_counts, np.bincount(want, minlength=outs.shape[-1]))
    host = observe(xs, outs, output_scale=1 / 256, output_zero_point=-128 if dtype == "int8" else 0)
    assert np.array_equal(device.confidence_hist, host.confidence_hist)
    assert np.array_equal(device.class_counts, host.class_counts) and device.class_other == 0


@pytest.mark.parametrize("dtype", ["int8", "uint8"])
def test_argmax_is_the_first_largest_on_host(dtype):
    require_tool("cc")
    xs = tied_outputs(31, dtype, 3)
    device, outs = _read(_host(passthrough_model(31, dtype)), xs)
    _check_first_argmax(device, xs, outs, dtype)


@pytest.mark.qemu
@pytest.mark.parametrize("dtype, n", [("int8", 31), ("uint8", 32), ("int8", 3)])
def test_argmax_is_the_first_largest_on_cortex_m4(dtype, n):
    """The DSP build's two-pass argmax (SEL lanes, then the first word holding the max)."""
    from tinyflow.build import arm
    from tinyflow.targets.machines import qemu_m4 as sim_qemu
    from tinyflow.workflows.device import open_device

    require_tool(arm.COMPILER)
    require_tool(sim_qemu.QEMU)
    xs = tied_outputs(n, dtype, n)
    port = open_device("sim://qemu-m4?board=nano33ble", model=passthrough_model(n, dtype), timeout=30.0)
    device, outs = _read(port, xs)
    _check_first_argmax(device, xs, outs, dtype)
