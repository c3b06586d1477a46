"""The baud-rate throttle holds at most one longest frame from the device, like a UART's buffer."""

from __future__ import annotations

from tinyflow.protocol import framing as fr
from tinyflow.targets.faults import ThrottledPort


class _Flood:
    """A device that has `total` bytes to send, handed out `chunk` bytes per poll."""

    def __init__(self, total: int, chunk: int):
        self.left, self.chunk, self.timeout, self.sent = total, chunk, 1.0, bytearray()

    @property
    def in_waiting(self) -> int:
        return min(self.left, self.chunk)

    def read(self, n: int) -> bytes:
        n = min(n, self.left)
        data = bytes((len(self.sent) + i) % 251 for i in range(n))
        self.sent += data
        self.left -= n
        return data

    def write(self, data) -> int:
        return len(data)

    def reset_input_buffer(self) -> None:
        pass


def _queued(port: ThrottledPort) -> int:
    return sum(len(data) for _, data in port._rx)


def test_throttle_drops_what_overruns_its_buffer():
    device = _Flood(total=5000, chunk=700)
    port = ThrottledPort(device, 10_000_000, rx_limit=1000)
    for _ in range(10):  # the host polls while nobody reads: the flood fills the buffer
        assert port.in_waiting <= 1000
    assert device.left == 0
    assert _queued(port) == 1000
    assert port.overrun == 4000
    port.timeout = 1.0
    assert port.read(1000) == bytes(device.sent[:1000])  # the oldest bytes survive, as in a FIFO
    device.left = 300
    assert port.in_waiting <= 300
    assert _queued(port) == 300 and port.overrun == 4000  # room again once the host has read


def test_throttle_default_buffer_fits_the_longest_frame():
    port = ThrottledPort(_Flood(0, 1), 115200)
    assert port.rx_limit == fr.FrameReader(fr.HOST_MAX_FRAME).limit + 1  # + its 0x00 delimiter
