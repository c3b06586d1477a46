"""A device that talks but never answers (garbage, unrelated frames) cannot hold the client forever."""

from __future__ import annotations

import time

import pytest

from tinyflow.errors import LinkError
from tinyflow.protocol import framing as fr
from tinyflow.protocol import messages as m
from tinyflow.targets.client import DeviceClient


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
        return self.payload[:max(1, size)] if size < len(self.payload) else self.payload

    def write(self, data: bytes) -> int:
        return len(data)

    def reset_input_buffer(self) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("payload", [b"\x00garbage\x00" * 4, b"\x00" + fr.encode_frame(m.STATS, 250)],
                         ids=["garbage", "unrelated-frames"])
def test_handshake_against_a_chatty_device_fails_in_bounded_time(payload):
    client = DeviceClient(Chatterbox(payload), timeout=0.2, max_retries=2)
    start = time.monotonic()
    with pytest.raises(LinkError):
        client.handshake()
    assert time.monotonic() - start < 30
