"""Frames of the device link (docs/protocol.md section 1): COBS, CRC-32, header, resync.

Pure: bytes in, bytes out. Decoding garbage raises only FrameError (a LinkError).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from tinyflow.errors import LinkError

PROTOCOL_VERSION = 1
HEADER = struct.Struct("<BBH")
MIN_FRAME = HEADER.size + 4
HOST_MAX_FRAME = 1 << 20
FLAG_REPLY = 0x01
FLAG_NOACK = 0x02
SEQ_UNKNOWN = 0xFFFF


class FrameError(LinkError):
    """A frame could not be decoded (bad COBS, bad CRC, too short or too long)."""

    default_hint = "The link corrupted a frame; the client resynchronises and retries."


@dataclass(frozen=True)
class Frame:
    """One decoded frame."""

    type: int
    seq: int
    body: bytes = b""
    flags: int = 0

    @property
    def is_reply(self) -> bool:
        return bool(self.flags & FLAG_REPLY)


def crc32(data: bytes) -> int:
    """CRC-32/IEEE, the same as zlib.crc32 and the device's tinyflow_crc32()."""
    return zlib.crc32(data) & 0xFFFFFFFF


def cobs_encode(data: bytes) -> bytes:
    """COBS-encode `data`: the result has no 0x00 byte and is at most len/254 + 1 bytes longer."""
    out = bytearray()
    for seg in bytes(data).split(b"\x00"):
        while len(seg) >= 254:  # a full block carries no implied zero
            out.append(255)
            out += seg[:254]
            seg = seg[254:]
        out.append(len(seg) + 1)
        out += seg
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    """Decode one COBS block sequence (without the 0x00 delimiter); FrameError when invalid."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        code = data[i]
        if code == 0:
            raise FrameError(f"COBS data contains a 0x00 at byte {i}")
        end = i + code
        if end > n:
            raise FrameError(f"COBS block at byte {i} claims {code - 1} bytes but {n - i - 1} remain")
        chunk = data[i + 1 : end]
        if 0 in chunk:
            raise FrameError(f"COBS data contains a 0x00 inside the block at byte {i}")
        out += chunk
        i = end
        if code != 255 and i < n:
            out.append(0)
    return bytes(out)


def encode_frame(type_: int, seq: int, body: bytes = b"", flags: int = 0) -> bytes:
    """The wire bytes of one frame, delimiter included."""
    raw = HEADER.pack(type_ & 0xFF, flags & 0xFF, seq & 0xFFFF) + bytes(body)
    raw += struct.pack("<I", crc32(raw))
    return cobs_encode(raw) + b"\x00"


def decode_frame(data: bytes, max_frame: int = HOST_MAX_FRAME) -> Frame:
    """Decode the COBS bytes of one frame (delimiter removed); FrameError when bad."""
    raw = cobs_decode(bytes(data))
    if len(raw) < MIN_FRAME:
        raise FrameError(f"Frame of {len(raw)} bytes is shorter than the minimum {MIN_FRAME}")
    if len(raw) > max_frame:
        raise FrameError(f"Frame of {len(raw)} bytes exceeds the limit of {max_frame}")
    (want,) = struct.unpack_from("<I", raw, len(raw) - 4)
    got = crc32(raw[:-4])
    if want != got:
        raise FrameError(f"Frame CRC mismatch: received 0x{want:08x}, computed 0x{got:08x}")
    type_, flags, seq = HEADER.unpack_from(raw)
    return Frame(type_, seq, raw[HEADER.size : -4], flags)


class FrameReader:
    """Incremental decoder: feed() bytes, get frames and FrameErrors in order; resyncs at 0x00.

    Holds at most one encoded frame of `max_frame` bytes: a longer run without a delimiter (a line
    of noise, a torn frame) is dropped as it arrives and reported once, at its delimiter.
    """

    def __init__(self, max_frame: int = HOST_MAX_FRAME):
        self.max_frame = max_frame
        self.limit = max_frame + max_frame // 254 + 2  # COBS overhead of the longest frame
        self._buf = bytearray()
        self._overflow = False

    def feed(self, data: bytes) -> list[Frame | FrameError]:
        """Bytes in; complete frames (or the error each bad frame gave) out."""
        events: list[Frame | FrameError] = []
        data = bytes(data)
        view = memoryview(data)  # slices without copies: a long run of noise is never copied whole
        for start, end, closed in _delimiters(data):
            if not self._overflow:
                room = self.limit - len(self._buf)
                self._buf += view[start : min(end, start + room + 1)]  # one byte past the limit flags it
                if len(self._buf) > self.limit:
                    self._buf.clear()
                    self._overflow = True
            if not closed:
                continue
            if self._overflow:
                events.append(FrameError(f"Frame longer than {self.max_frame} bytes dropped"))
            elif self._buf:
                try:
                    events.append(decode_frame(self._buf, self.max_frame))
                except FrameError as exc:
                    events.append(exc)
            self._buf.clear()
            self._overflow = False
        return events

    def reset(self) -> None:
        self._buf.clear()
        self._overflow = False


def _delimiters(data: bytes):
    """Spans of `data` between 0x00 bytes: (start, end, closed_by_delimiter)."""
    start = 0
    while True:
        idx = data.find(0, start)
        if idx < 0:
            yield start, len(data), False
            return
        yield start, idx, True
        start = idx + 1
