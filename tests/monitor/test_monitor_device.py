"""Monitor mode in the C core (firmware/src/monitor.c) on sim://host: the device's statistics equal
the host twin's (tinyflow.monitor.reference.observe) for the same inputs, the MONITOR request
is retry-safe, and a TINYFLOW_MONITOR=0 build leaves it out."""

from __future__ import annotations

import numpy as np
import pytest
from monitor_helpers import classifier_model, float_samples, quantize

from conftest import require_tool
from tinyflow.errors import ModelError
from tinyflow.monitor.profile import from_device
from tinyflow.monitor.reference import observe, sample_step
from tinyflow.protocol import framing as fr
from tinyflow.protocol import messages as m
from tinyflow.targets.client import DeviceClient

pytestmark = pytest.mark.firmware


@pytest.fixture(scope="module")
def model():
    require_tool("cc")
    return classifier_model()


def _open(model, defines=None, sanitize=True):
    from tinyflow.build.host import build_host_firmware
    from tinyflow.compile import compile_model
    from tinyflow.targets.machines.host import ProcessPort

    exe = build_host_firmware(compile_model(model, name="model"), sanitize=sanitize, defines=defines)
    return ProcessPort([exe], timeout=5.0)


def _inputs(n: int, rows: int) -> np.ndarray:
    x = quantize(float_samples(n, 5, gain=1.2, rows=rows))
    x[0].fill(127)  # saturated windows and both extremes: the saturation counter and the end bins
    x[1].fill(-128)
    x[2, 0, 0, :] = [-128, -17, -16, -1, 0, 15, 16, 127]  # values on both sides of bin edges
    return x


# 1024 (the most rows counted whole): 70 windows pass the 65,536 rows of a 32-bit block; 4096: every
# 4th row (the subsample, tinyflow.monitor.reference.sample_step), the host twin samples the same.
@pytest.mark.parametrize("rows, windows", [(16, 20), (1024, 70), (4096, 20)])
def test_device_statistics_equal_the_host_reference(rows, windows):
    require_tool("cc")
    port = _open(classifier_model(rows=rows))
    try:
        client = DeviceClient(port, timeout=10.0)
        client.handshake()
        empty = client.monitor(reset=True)
        assert empty.windows == 0 and empty.flags & m.MONITOR_FEATURES
        xs = _inputs(windows, rows)
        outs = [r.outputs[0] for r in client.infer_many(list(xs[:9]), window=3)]
        assert client.monitor().windows == 9  # a reading between inferences changes nothing
        outs += [r.outputs[0] for r in client.infer_many(list(xs[9:]), window=3)]
        device = from_device(client.monitor())
    finally:
        port.close()
    assert "runtime error" not in port.stderr_text(), port.stderr_text()
    host = observe(xs, np.stack(outs), output_scale=1 / 256, output_zero_point=-128)
    sampled = -(-rows // sample_step(rows))
    assert device.windows == host.windows == windows and device.feature_dim == host.feature_dim == 8
    assert device.elements == host.elements == windows * sampled * 8
    assert device.saturated == host.saturated > 2 * sampled * 8  # two windows entirely at the limits
    for name in ("confidence_hist", "class_counts", "count", "sum", "sumsq", "hist"):
        assert np.array_equal(getattr(device, name), getattr(host, name)), name
    assert device.class_other == host.class_other == 0 and device.ticks > 0


def _exchange(port, wire: bytes) -> list:
    port.write(wire + fr.encode_frame(m.SYNC, 0xBEEF, m.encode_sync(7)))
    reader, events = fr.FrameReader(), []
    while not any(isinstance(e, fr.Frame) and e.type == m.SYNC and e.seq == 0xBEEF for e in events):
        data = port.read(max(1, port.in_waiting))
        assert data, "the device stopped answering"
        events += reader.feed(data)
    return [e for e in events if isinstance(e, fr.Frame) and e.type not in (m.SYNC, m.BOOT)]


def test_a_resent_reset_request_does_not_reset_twice(model):
    sample = quantize(float_samples(1, 9)).tobytes()
    port = _open(model, sanitize=False)
    try:
        frames = _exchange(
            port,
            fr.encode_frame(m.INFER, 1, sample)
            + fr.encode_frame(m.INFER, 2, sample)
            + fr.encode_frame(m.MONITOR, 77, m.encode_monitor(True))  # read 2, reset
            + fr.encode_frame(m.INFER, 3, sample)
            + fr.encode_frame(m.MONITOR, 77, m.encode_monitor(True))  # its reply was lost: resent
            + fr.encode_frame(m.MONITOR, 78, m.encode_monitor(False))
            + fr.encode_frame(m.MONITOR, 79, b"\x01\x00"),
        )
    finally:
        port.close()
    monitors = [f for f in frames if f.type == m.MONITOR]
    first, resent, plain = (m.decode_monitor_reply(f.body) for f in monitors)
    assert (first.windows, first.epoch, first.replayed) == (2, 0, False)
    # The resent request shows what came after the reset and does not clear it again.
    assert (resent.windows, resent.epoch, resent.replayed) == (1, 1, True)
    assert (plain.windows, plain.epoch, plain.replayed) == (1, 1, False)
    error = m.decode_error(frames[-1].body)
    assert error.name == "BAD_LENGTH" and error.detail == 1


def test_a_build_without_the_monitor_answers_unknown_type(model):
    port = _open(model, defines={"TINYFLOW_MONITOR": 0}, sanitize=False)
    try:
        client = DeviceClient(port, timeout=5.0)
        client.handshake()
        assert len(list(client.infer_many(list(quantize(float_samples(2, 1)))))) == 2
        with pytest.raises(ModelError, match="UNKNOWN_TYPE"):
            client.monitor()
    finally:
        port.close()
