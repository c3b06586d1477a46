"""The port contract: the pyserial surface every tinyflow port offers.

DeviceClient drives anything with this surface: a pyserial port (device paths, socket://...),
the simulated ports of targets/machines/ and the testing wrappers of targets/faults.py. The
simulated ones derive from `Port`, so a port written later cannot forget a method the client uses.
"""

from __future__ import annotations

import abc


class Port(abc.ABC):
    """A byte pipe to a device: read/write with a timeout, like pyserial's Serial.

    Simulated ports add `latency_basis` (what their latencies mean) and `reset()` (a reboot);
    the base declares neither, so the wrappers' attribute forwarding still reaches them.

    Attributes:
        instant: True when replies are produced during write() (an in-process device), so an
            empty read means nothing more will come and the client need not wait out the timeout.
        timeout: read timeout in seconds (None: block); subclasses may make it a property.
    """

    instant = False
    timeout: float | None = 2.0

    @abc.abstractmethod
    def read(self, size: int = 1) -> bytes:
        """Up to `size` bytes; fewer when the timeout passes first."""

    @abc.abstractmethod
    def write(self, data) -> int:
        """Send all of `data`; returns its length."""

    @property
    def in_waiting(self) -> int:
        """Bytes that a read would return at once."""
        return 0

    def flush(self) -> None:  # noqa: B027 (optional: most ports send at once)
        """Wait until written bytes left (nothing to wait for unless a port buffers writes)."""

    def reset_input_buffer(self) -> None:  # noqa: B027 (optional: a port without a buffer has nothing to drop)
        """Drop what was received but not read."""

    def reset_output_buffer(self) -> None:  # noqa: B027
        """Drop what was written but not sent."""

    def close(self) -> None:  # noqa: B027 (optional: a port owning nothing has nothing to release)
        """Release the device (process, socket, worker child)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
