"""The host side of sim://qemu-*'s memory link: request bytes go into guest RAM, not the UART.

QEMU's CMSDK UART holds one byte and costs an event-loop round trip per byte (about 30 KB/s), so
a 27 KB image took most of a second to send. A machine whose RAM region QEMU can back with a
host file (`-object memory-backend-file,share=on -machine memory-backend=...`) instead shares
that region with the host: the host writes request bytes into a single-producer/single-consumer
ring there, and the firmware's HAL (firmware/ports/mps2_an386/ring.c) takes them out between
requests. The byte stream the protocol core sees is the same, so framing, CRC and retries are
untouched; replies stay on the UART. The layout is ring.h's:

    0 magic "TFRG" | 4 version | 8 capacity (power of two) | 64 head (host) | 128 tail (device) | 256 data

Ordering: the host writes the data before it publishes head (one aligned 32-bit store) and reads
tail before reusing space; x86-64 hosts keep stores in program order (TSO), and a torn frame on a
weaker host would still be caught by the protocol's CRC and retried. The ring is little-endian,
like the device: the 32-bit view assumes a little-endian host (x86-64, arm64).
"""

from __future__ import annotations

import mmap
import struct
import sys
from pathlib import Path

from tinyflow.errors import UsageError

MAGIC = 0x47524654  # "TFRG"
VERSION = 1
HEAD, TAIL, DATA = 64, 128, 256
DEFAULT_CAPACITY = 1 << 20  # a whole VWW request many times over: a write rarely waits
MIN_CAPACITY = 64
HOST_CAN_SHARE = sys.byteorder == "little"  # the ring's words are the device's little-endian ones


class HostRing:
    """The ring in a host file that QEMU maps as guest RAM; the host is its only producer.

    Args:
        path: the file to create (in the port's own temporary folder; removed with it).
        region_bytes: the size of the guest RAM region the file backs (QEMU requires the
            machine's exact RAM size).
        capacity: the data bytes of the ring, a power of two.
    """

    def __init__(self, path: Path, region_bytes: int, capacity: int = DEFAULT_CAPACITY):
        if capacity < MIN_CAPACITY or capacity & (capacity - 1) or DATA + capacity > region_bytes:
            raise UsageError(
                f"A memory-link ring of {capacity} B does not fit a {region_bytes} B region as a power of two",
                f"Use a power of two between {MIN_CAPACITY} and {(region_bytes - DATA) // 2 + 1}.",
            )
        self.path = Path(path)
        self.region_bytes = region_bytes
        self.capacity = capacity
        with open(self.path, "wb") as fh:
            fh.truncate(region_bytes)  # sparse: only the pages the ring touches take space
        with open(self.path, "r+b") as fh:
            self._map = mmap.mmap(fh.fileno(), region_bytes)
        # head and tail through a 32-bit view: one aligned 4-byte store or load each (struct.pack_into
        # stores byte by byte, and a device reading a half-written head would take stale bytes).
        self._words = memoryview(self._map).cast("I")
        self._head = 0
        self.clear()

    def clear(self) -> None:
        """An empty ring with a valid header: before each start of the emulator, never while it runs."""
        self._head = 0
        struct.pack_into("<III", self._map, 0, MAGIC, VERSION, self.capacity)
        self._words[HEAD // 4] = 0
        self._words[TAIL // 4] = 0

    def backend_args(self, object_id: str = "tinyflow-link") -> list[str]:
        """QEMU options that back the machine's RAM region with this file, shared."""
        path = str(self.path).replace(",", ",,")  # QEMU's option syntax doubles a literal comma
        return [
            *("-object", f"memory-backend-file,id={object_id},size={self.region_bytes},mem-path={path},share=on"),
            *("-machine", f"memory-backend={object_id}"),
        ]

    def unread(self) -> int:
        """Bytes written that the device has not taken yet."""
        tail = self._words[TAIL // 4]
        return (self._head - tail) & 0xFFFFFFFF

    def put(self, data) -> int:
        """Write as much of `data` as fits (never blocks); returns how many bytes were taken."""
        view = memoryview(data).cast("B")
        unread = self.unread()
        if unread > self.capacity:  # a tail the device cannot have written: treat the ring as full
            return 0
        n = min(len(view), self.capacity - unread)
        if n == 0:
            return 0
        start = self._head & (self.capacity - 1)
        first = min(n, self.capacity - start)
        self._map[DATA + start : DATA + start + first] = view[:first]
        if n > first:  # wrap around to the start of the data area
            self._map[DATA : DATA + n - first] = view[first:n]
        self._head = (self._head + n) & 0xFFFFFFFF
        self._words[HEAD // 4] = self._head  # published after the data, in one store
        return n

    def close(self) -> None:
        self._words.release()
        self._map.close()
