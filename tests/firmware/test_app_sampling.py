"""Opt-in sampling in application mode (firmware/src/app.c, WINDOW): the device keeps the raw windows
whose top-1 confidence is below the host's threshold, and only those, and only when asked.

Same fake sensor and fake model as test_app_queue.py: window k's frames and output are known, so
the kept windows and their bytes are checked exactly.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import require_tool
from tinyflow.build.cc import CBuild, build_executable, stage_sources
from tinyflow.errors import ModelError
from tinyflow.protocol import messages as m
from tinyflow.resources import firmware_dir
from tinyflow.targets.client import DeviceClient, kept_by_device
from tinyflow.targets.machines.host import ProcessPort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_app_queue import CHANNELS, FAKE_HAL, FAKE_PIPELINE, T0_US, WINDOW, _expected, _signal  # noqa: E402

pytestmark = pytest.mark.firmware
STRIDE = 50
BELOW = 0.9  # splits the fake stream: windows 2, 3, 6 and 15 of 16 are below it


def _build(frames: int, *, sample_bytes: int = 2048, rate: int = 1000) -> list[str]:
    require_tool("cc")
    fw = firmware_dir()
    core = [p for p in sorted((fw / "src").glob("*.c")) if p.name != "pipeline.c"]
    fakes = stage_sources({"fake_pipeline.c": FAKE_PIPELINE, "fake_hal.c": FAKE_HAL}, "app-sampling-src")
    defines = {
        "FAKE_IN0_BYTES": WINDOW * CHANNELS * 2,
        "FAKE_WINDOW": WINDOW,
        "FAKE_CHANNELS": CHANNELS,
        "FAKE_T0_US": f"{T0_US}u",
        "TINYFLOW_RX_QUEUE_BYTES": 16384,
        "TINYFLOW_APP_SAMPLE_BYTES": sample_bytes,
    }
    build = CBuild(
        sources=[*core, fw / "tests" / "fake_model.c", *fakes],
        include_dirs=[fw / "include"],
        defines=defines,
        cflags=["-std=c99", "-O1", "-Wall", "-Wextra", "-Werror"],
        sanitize=True,
    )
    exe = build_executable(build, f"tinyflow-app-sampling-{sample_bytes}")
    return [str(exe), f"frames={frames}", "paced=1", "burst=7", f"channels={CHANNELS}", f"rate={rate}"]


def _confidence(k: int) -> float:
    """The fake model's top-1 for window k, dequantized (scale 1/256, zero point -128)."""
    return (int(np.frombuffer(_expected(STRIDE * k), np.int8).max()) + 128) / 256


def test_only_unsure_windows_leave_the_device_with_their_exact_frames():
    count = 16
    unsure = [k for k in range(count) if _confidence(k) < BELOW]
    assert 0 < len(unsure) < count  # the threshold splits this stream: the test can tell kept from not
    port = ProcessPort(_build(STRIDE * count + WINDOW), timeout=2.0)
    try:
        client = DeviceClient(port, timeout=2.0)
        got = list(client.classify(STRIDE, deadline=time.monotonic() + 20, count=count, sample_below=BELOW))
    finally:
        port.close()
    assert [p.index for p in got] == list(range(count)) and client.classify_windows_missed == 0
    assert [p.index for p in got if p.window is not None] == unsure
    for k in unsure:
        want = _signal(STRIDE * k + WINDOW)[STRIDE * k :]
        assert np.array_equal(np.frombuffer(got[k].window, np.int16).reshape(WINDOW, CHANNELS), want)


def test_without_the_opt_in_no_window_is_kept():
    port = ProcessPort(_build(STRIDE * 8 + WINDOW), timeout=2.0)
    try:
        client = DeviceClient(port, timeout=2.0)
        got = list(client.classify(STRIDE, deadline=time.monotonic() + 20, count=8))
        assert all(p.window is None for p in got)
        unsure = [p.index for p in got if kept_by_device(p, client.info.outputs[0], BELOW)]
        assert unsure and all(client.kept_window(k) is None for k in unsure)  # asked anyway: not held
    finally:
        port.close()


def test_window_reads_are_chunked_by_offset_and_repeatable():
    port = ProcessPort(_build(STRIDE * 16 + WINDOW), timeout=2.0)
    try:
        client = DeviceClient(port, timeout=2.0)
        got = list(client.classify(STRIDE, deadline=time.monotonic() + 20, count=16, sample_below=BELOW))
        last = [p for p in got if p.window is not None][-1]  # still held: nothing came after the stream
        assert client.kept_window(last.index, chunk=7) == client.kept_window(last.index) == last.window
        beyond = client._exchange(m.WINDOW, m.encode_window_request(last.index, WINDOW * CHANNELS * 2 + 1, 8))
        assert isinstance(beyond, m.ErrorReply) and beyond.name == "BAD_OFFSET"
        # A window the device no longer holds (or never did) is "not held" at any offset: a host
        # half-way through reading it learns it is gone, not that it asked for a bad offset.
        gone = m.decode_window_chunk(client._exchange(m.WINDOW, m.encode_window_request(0, 100, 8)).body)
        assert (gone.held, gone.total, gone.data) == (False, 0, b"")
        short = client._exchange(m.WINDOW, b"\x00" * 9)
        assert isinstance(short, m.ErrorReply) and short.name == "BAD_LENGTH" and short.detail == 10
        bad = client._exchange(m.CLASSIFY_START, b"\x00" * 6)
        assert isinstance(bad, m.ErrorReply) and bad.name == "BAD_LENGTH"
    finally:
        port.close()


def test_a_window_larger_than_the_build_keeps_is_refused_with_the_setting_to_change():
    port = ProcessPort(_build(STRIDE * 4 + WINDOW, sample_bytes=64), timeout=2.0)
    try:
        client = DeviceClient(port, timeout=2.0)
        with pytest.raises(ModelError, match="TINYFLOW_APP_SAMPLE_BYTES"):
            client.classify_start(0, sample_below=BELOW)
        assert client.classify_start(0).window_frames == WINDOW  # without the opt-in it still runs
    finally:
        port.close()
