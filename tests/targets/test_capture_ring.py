"""The capture ring of firmware/src/capture.c on the host port, driven frame by frame: acknowledgement
by offset, idempotent retries, BAD_OFFSET, a ring smaller than the stream, errors (ASan/UBSan build)."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from conftest import require_tool
from tinyflow.build.host import build_host_firmware
from tinyflow.protocol import framing as fr
from tinyflow.protocol import messages as m
from tinyflow.targets.machines.host import ProcessPort
from tinyflow.targets.played import KINDS, Played, encode_played

pytestmark = pytest.mark.firmware

RING_FRAMES = 128  # TINYFLOW_CAPTURE_RING_BYTES / 2: a 1,000-frame stream wraps it many times


@pytest.fixture(scope="module")
def exe():
    require_tool("cc")
    return build_host_firmware(fake={"TINYFLOW_CAPTURE_RING_BYTES": 2 * RING_FRAMES}, sanitize=True)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    audio = np.random.default_rng(4).integers(-32768, 32768, (1000, 1), dtype=np.int16)
    path = tmp_path_factory.mktemp("played") / "s.tfps"
    path.write_bytes(encode_played(Played(audio, KINDS["audio"], 16000)))
    return path, audio[:, 0]


@pytest.fixture
def device(exe, source):
    port = ProcessPort([exe, "--sensor", source[0], "--sensor-pace", "fast"], timeout=2.0)
    yield Raw(port)
    port.close()
    assert "ERROR" not in port.stderr_text() and "runtime error" not in port.stderr_text(), port.stderr_text()


class Raw:
    """Requests one at a time, replies matched by seq (no client: every byte is the test's)."""

    def __init__(self, port):
        self.port, self.seq, self.reader = port, 100, fr.FrameReader()

    def ask(self, type_: int, body: bytes = b"", seq: int | None = None) -> fr.Frame:
        self.seq = seq if seq is not None else self.seq + 1
        self.port.write(b"\x00" + fr.encode_frame(type_, self.seq, body))
        for _ in range(200):
            for ev in self.reader.feed(self.port.read(max(1, self.port.in_waiting))):
                if isinstance(ev, fr.Frame) and ev.is_reply and ev.seq == self.seq:
                    return ev
        raise AssertionError(f"no reply to {m.TYPE_NAMES[type_]}")

    def read(self, offset: int, want: int):
        reply = self.ask(m.CAPTURE_READ, m.encode_capture_read(offset, want))
        assert reply.type == m.CAPTURE_READ, m.decode_error(reply.body)
        block = m.decode_capture_block(reply.body, 1)
        return block, np.frombuffer(block.data, dtype="<i2")

    def error(self, type_: int, body: bytes = b"") -> m.ErrorReply:
        reply = self.ask(type_, body)
        assert reply.type == m.ERROR, reply
        return m.decode_error(reply.body)


def test_reads_before_start_and_malformed_bodies_are_refused(device):
    assert device.error(m.CAPTURE_READ, m.encode_capture_read(0, 10)).code == m.ERR_NOT_RUNNING
    assert device.error(m.CAPTURE_STOP).code == m.ERR_NOT_RUNNING
    assert device.error(m.CAPTURE_START, b"\x01").code == m.ERR_BAD_LENGTH
    err = device.error(m.CAPTURE_START, m.encode_capture_start(8000, 1))  # the file plays at 16 kHz only
    assert (err.code, err.detail) == (m.ERR_NO_SENSOR, 2)
    info = m.decode_capture_info(device.ask(m.CAPTURE_START, m.encode_capture_start(0, 0)).body)
    assert device.error(m.CAPTURE_READ, b"\x00" * 5).code == m.ERR_BAD_LENGTH
    assert info == m.CaptureInfo(kind=1, channels=1, rate_hz=16000, max_frames=RING_FRAMES)


def test_offsets_acknowledge_retries_repeat_and_old_offsets_are_bad(device, source):
    audio = source[1]
    device.ask(m.CAPTURE_START, m.encode_capture_start(16000, 1))
    first, data = device.read(0, 50)
    assert (first.offset, first.frames, first.flags, first.lost_total) == (0, 50, 0, 0)
    np.testing.assert_array_equal(data, audio[:50])
    again, data_again = device.read(0, 50)  # a retry (its reply was lost): the same frames
    assert again.data == first.data and again.ticks64 == first.ticks64
    # Acknowledges 0..49; the ring (128 frames) refills after this reply, between polls.
    block, data = device.read(50, 1000)
    assert block.frames == RING_FRAMES - 50
    np.testing.assert_array_equal(data, audio[50:RING_FRAMES])
    refilled, data = device.read(RING_FRAMES, 1000)
    assert refilled.frames == 50  # the space the acknowledgement at 50 freed
    np.testing.assert_array_equal(data, audio[RING_FRAMES : RING_FRAMES + 50])
    # 1e6 / 16000 = 62.5 us per frame: frame 50 is 3125 us after frame 0
    assert block.ticks64 - first.ticks64 == 3125
    err = device.error(m.CAPTURE_READ, m.encode_capture_read(10, 10))
    assert (err.code, err.detail) == (m.ERR_BAD_OFFSET, RING_FRAMES)  # the oldest frame still held
    ahead, _ = device.read(5000, 10)
    assert (ahead.offset, ahead.frames) == (5000, 0)


def test_a_stream_much_longer_than_the_ring_arrives_whole_then_ends(device, source):
    audio = source[1]
    device.ask(m.CAPTURE_START, m.encode_capture_start(0, 0))
    got, offset, ended = [], 0, False
    for _ in range(100):
        block, data = device.read(offset, 77)  # not a divisor of the ring: blocks wrap its end
        assert block.offset == offset and block.frames <= 77
        got.append(data)
        offset += block.frames
        ended = block.ended
        if ended:
            break
    assert ended and offset == len(audio)
    np.testing.assert_array_equal(np.concatenate(got), audio)
    stop = device.ask(m.CAPTURE_STOP)
    assert m.decode_capture_stop_reply(stop.body) == len(audio)
    assert m.decode_capture_stop_reply(device.ask(m.CAPTURE_STOP).body) == len(audio)  # stopping twice
    after, _ = device.read(offset, 10)
    assert after.frames == 0 and after.ended


def test_a_retried_start_does_not_restart_the_stream(device, source):
    start = m.encode_capture_start(0, 0)
    device.ask(m.CAPTURE_START, start, seq=7)
    device.read(0, 100)
    device.read(100, 10)  # acknowledges the first 100
    device.ask(m.CAPTURE_START, start, seq=7)  # the same seq again: its reply was lost
    block, data = device.read(100, 10)
    np.testing.assert_array_equal(data, source[1][100:110])
    device.ask(m.CAPTURE_START, start, seq=8)  # a new START restarts the stream at frame 0
    block, data = device.read(0, 10)
    np.testing.assert_array_equal(data, source[1][:10])


def test_a_device_without_a_sensor_says_so(exe):
    port = ProcessPort([exe], timeout=2.0)
    try:
        err = Raw(port).error(m.CAPTURE_START, m.encode_capture_start(0, 0))
        assert (err.code, err.detail, err.request_type) == (m.ERR_NO_SENSOR, 1, m.CAPTURE_START)
    finally:
        port.close()


@pytest.mark.parametrize(
    "raw",
    [
        b"TFPS\x01\x00\x01\x01" + struct.pack("<II", 16000, 100) + b"\x00" * 199,  # one byte short
        b"TFPX\x01\x00\x01\x01" + struct.pack("<II", 16000, 1) + b"\x00" * 2,  # magic
        b"TFPS\x01\x00\x01\x00" + struct.pack("<II", 16000, 1),  # 0 channels
        b"TFPS\x01\x00\x01\x01" + struct.pack("<II", 0, 1) + b"\x00" * 2,  # 0 Hz
        b"TFPS\x01\x00\x01\x10" + struct.pack("<II", 16000, 0xFFFFFFFF),  # a size past 32 bits
    ],
)
def test_a_malformed_played_file_is_an_io_error_not_a_crash(exe, tmp_path, raw):
    path = tmp_path / "bad.tfps"
    path.write_bytes(raw)
    port = ProcessPort([exe, "--sensor", path, "--sensor-pace", "fast"], timeout=2.0)
    try:
        err = Raw(port).error(m.CAPTURE_START, m.encode_capture_start(0, 0))
        assert (err.code, err.detail) == (m.ERR_NO_SENSOR, 3)
    finally:
        port.close()
    assert "runtime error" not in port.stderr_text()


def test_the_client_reads_the_stream_whole_and_a_reboot_is_an_error_not_a_gap(exe, source):
    from tinyflow.errors import LinkError
    from tinyflow.targets.client import DeviceClient

    port = ProcessPort([exe, "--sensor", source[0], "--sensor-pace", "fast"], timeout=2.0)
    try:
        client = DeviceClient(port, timeout=2.0)
        blocks = list(client.capture())
        assert [b.offset for b in blocks] == list(np.cumsum([0] + [len(b.data) for b in blocks[:-1]]))
        np.testing.assert_array_equal(np.concatenate([b.data for b in blocks])[:, 0], source[1])
        assert client.capture_lost == 0 and client.capture_info.max_frames == RING_FRAMES
        stream = client.capture(1000)
        next(stream)
        port.reset()  # the device reboots mid-capture: its ring and stream are gone
        with pytest.raises(LinkError, match="not capturing at frame .*: it restarted and lost the stream"):
            list(stream)
    finally:
        port.close()


def test_firmware_built_without_capture_answers_unknown_type_and_the_client_says_so(source):
    from tinyflow.errors import LinkError
    from tinyflow.targets.client import DeviceClient

    exe = build_host_firmware(fake={"TINYFLOW_CAPTURE": 0})
    port = ProcessPort([exe, "--sensor", source[0]], timeout=2.0)
    try:
        err = Raw(port).error(m.CAPTURE_START, m.encode_capture_start(0, 0))
        assert (err.code, err.request_type) == (m.ERR_UNKNOWN_TYPE, m.CAPTURE_START)
        with pytest.raises(LinkError, match="has no capture"):
            DeviceClient(port, timeout=2.0).capture()
    finally:
        port.close()


def test_a_sensor_that_overruns_is_counted_flagged_and_never_spliced(exe, tmp_path):
    """--sensor-fifo makes the played file behave like a microphone with a 64-frame FIFO: a host
    that reads slowly loses frames, and the blocks say where (bit 1) and how many (lost_total)."""
    import time

    rate, frames = 16000, 16000
    audio = np.arange(frames, dtype=np.int16).reshape(-1, 1)  # each value is its own frame index
    path = tmp_path / "ramp.tfps"
    path.write_bytes(encode_played(Played(audio, KINDS["audio"], rate)))
    port = ProcessPort([exe, "--sensor", path, "--sensor-pace", "realtime", "--sensor-fifo", "64"], timeout=2.0)
    try:
        device = Raw(port)
        device.ask(m.CAPTURE_START, m.encode_capture_start(0, 0))
        offset, lost, gaps, t0 = 0, 0, 0, None
        for _ in range(12):
            time.sleep(0.03)  # 480 frames arrive per read; the ring holds 128, the FIFO 64
            block, data = device.read(offset, 1000)
            if not block.frames:
                continue
            assert block.lost_total > lost if block.lost_before else block.lost_total == lost
            gaps += block.lost_before
            lost = block.lost_total
            # frames are numbered as the ring got them: the source index is offset + lost before it
            np.testing.assert_array_equal(data, np.arange(offset + lost, offset + lost + block.frames))
            # the device's clock: source frame k was sampled k / rate after the sensor opened
            t0 = block.ticks64 - (offset + lost) * 1e6 / rate if t0 is None else t0
            assert block.ticks64 - t0 == pytest.approx((offset + lost) * 1e6 / rate, abs=1)
            offset += block.frames
        assert gaps >= 3 and lost > 1000
    finally:
        port.close()
    assert "runtime error" not in port.stderr_text()
