"""A device that talks but never answers (garbage, unrelated frames) cannot hold the client forever."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
import time
import tty

import numpy as np
import pytest
from fake_runtime import FakeRuntime

from conftest import corpus_path
from tinyflow.errors import LinkError
from tinyflow.protocol import framing as fr
from tinyflow.protocol import messages as m
from tinyflow.targets.client import DeviceClient
from tinyflow.targets.device import PythonDevice, SimPort


class Chatterbox:
    """A pyserial-like port that answers every read with a valid frame the client did not ask for."""

    def __init__(self, payload: bytes):
        self.payload = payload
        self.timeout = 0.05
        self.closed = False

    @property
    def in_waiting(self) -> int:
        return len(self.payload)

    def read(self, size: int = 1) -> bytes:
        time.sleep(0.001)
        return self.payload[: max(1, size)] if size < len(self.payload) else self.payload

    def write(self, data: bytes) -> int:
        return len(data)

    def reset_input_buffer(self) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    "payload", [b"\x00garbage\x00" * 4, b"\x00" + fr.encode_frame(m.STATS, 250)], ids=["garbage", "unrelated-frames"]
)
def test_handshake_against_a_chatty_device_fails_in_bounded_time(payload):
    client = DeviceClient(Chatterbox(payload), timeout=0.2, max_retries=2)
    start = time.monotonic()
    with pytest.raises(LinkError):
        client.handshake()
    assert time.monotonic() - start < 30


# -- every wait has an absolute deadline (issue 9, defect 2) ----------------------------------

HELLO_WORLD = "tflm/hello_world_int8.tflite"


def _zeros() -> bytes:
    return bytes(4096)  # a line held low


def _noise() -> bytes:
    return bytes(np.random.default_rng(0).integers(1, 256, 1 << 16, dtype=np.uint8))  # no 0x00: no delimiter


def _stream_into_pty(master: int, make, stop: threading.Event) -> None:
    """The device side of the pty: streams `make()` bytes forever and swallows what the host sends."""
    block = make()
    at = 0
    os.set_blocking(master, False)  # a full pty must not block this thread past the test
    while not stop.is_set():
        _, writable, _ = select.select([master], [master], [], 0.05)
        try:
            if master in writable:
                at = (at + os.write(master, block[at : at + 4096] or block[:4096])) % len(block)
            while select.select([master], [], [], 0)[0]:
                os.read(master, 65536)
        except BlockingIOError:
            pass
        except OSError:
            return
        time.sleep(0.001)  # about 4 MB/s: a flood, without starving the process under test


@pytest.mark.parametrize("make", [_zeros, _noise], ids=["zeros", "nonzero-noise"])
def test_eval_against_a_pty_that_never_sends_a_frame_ends_with_a_link_error(make):
    """`tinyflow eval M --target <pty> --dataset random:5 --timeout 0.5` ends in under 15 s."""
    model = corpus_path(HELLO_WORLD)
    master, slave = os.openpty()
    tty.setraw(slave)
    stop = threading.Event()
    writer = threading.Thread(target=_stream_into_pty, args=(master, make, stop), daemon=True)
    writer.start()
    start = time.monotonic()
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                "from tinyflow.cli.main import main; main()",
                "eval",
                str(model),
                "--target",
                os.ttyname(slave),
                "--dataset",
                "random:5",
                "--timeout",
                "0.5",
                "--no-progress",
            ],
            capture_output=True,
            text=True,
            timeout=45,
        )
    finally:
        elapsed = time.monotonic() - start
        stop.set()
        writer.join(5)
        os.close(slave)
        os.close(master)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("Error: No HELLO reply"), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert elapsed < 15


class _ChattyDevice:
    """A Python device that answers the handshake, then only sends `chatter` (frames nobody asked for)."""

    instant = False

    def __init__(self, chatter: bytes):
        self.inner = SimPort(PythonDevice(FakeRuntime((16,))), announce_boot=False)
        self.chatter = chatter
        self.timeout = 0.05
        self.answering = True

    @property
    def in_waiting(self) -> int:
        return self.inner.in_waiting if self.answering else len(self.chatter)

    def write(self, data) -> int:
        if self.answering:
            self.inner.write(data)
        return len(data)

    def read(self, size: int = 1) -> bytes:
        if self.answering:
            return self.inner.read(size)
        time.sleep(0.001)
        return self.chatter


@pytest.mark.parametrize(
    "chatter",
    [
        fr.encode_frame(m.STATS, 250, bytes(28), fr.FLAG_REPLY),
        fr.encode_frame(m.BOOT, 0, m.encode_boot(0), fr.FLAG_REPLY),
        b"\x00\x00\x00\x00",
        b"\x05garbage\x00",
    ],
    ids=["unrelated-replies", "boot-frames", "zeros", "bad-frames"],
)
def test_a_device_that_stops_answering_but_keeps_talking_fails_in_bounded_time(chatter):
    port = _ChattyDevice(chatter)
    client = DeviceClient(port, timeout=0.2, max_retries=3, seed=1)
    client.handshake()
    port.answering = False
    start = time.monotonic()
    with pytest.raises(LinkError):
        list(client.infer_many([bytes(16)] * 3))
    assert time.monotonic() - start < 20


def test_the_frame_reader_never_buffers_more_than_a_frame():
    """Garbage without 0x00, in any amount, costs at most one frame of memory, then resyncs."""
    import tracemalloc

    reader = fr.FrameReader(max_frame=1024)
    garbage = b"\x07" * (8 << 20)
    tracemalloc.start()
    try:
        assert reader.feed(garbage) == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 256 << 10, f"feeding 8 MiB of garbage allocated {peak:,} B"
    events = reader.feed(b"\x00" + fr.encode_frame(m.HELLO, 3))
    assert isinstance(events[0], fr.FrameError) and events[1] == fr.Frame(m.HELLO, 3)
