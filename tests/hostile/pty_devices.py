"""Misbehaving boards on a pseudo-terminal: `tinyflow eval --target /dev/pts/N` talks to them
exactly as to a USB serial port. A thread serves the master side until stop().

Behaviours: silent, zeros (0x00 forever, a line held low), noise (random bytes without 0x00),
noise0 (random bytes), bad-crc (well-formed COBS frames whose CRC is wrong, also as HELLO
replies), boot-storm (BOOT frames forever), and hello-* variants that answer HELLO with a reply
that is inconsistent in one way, then misbehave on INFER.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
import select
import struct
import threading
import tty

from tinyflow.protocol import framing as fr
from tinyflow.protocol import messages as m

STREAM_CHUNK = 2048  # bytes per write of a streaming behaviour (~200 KB/s: faster than any UART)
PERIOD = 0.01
_DTYPES = {"FLOAT32": 0, "INT32": 2, "UINT8": 3, "INT16": 7, "INT8": 9}


def model_info(model_bytes: bytes) -> m.DeviceInfo:
    """The HELLO reply an honest board running `model_bytes` would send."""
    from tinyflow.tflite import read_model

    model = read_model(model_bytes)

    def spec(i: int) -> m.TensorSpec:
        t = model.tensors[i]
        scale = float(t.scale[0]) if len(t.scale) else 0.0
        zp = int(t.zero_point[0]) if len(t.zero_point) else 0
        return m.TensorSpec(_DTYPES.get(t.type_name, 9), tuple(int(d) for d in t.shape), scale, zp, int(t.nbytes))

    return m.DeviceInfo(
        max_frame=256,
        model_bytes=len(model_bytes),
        model_sha256=hashlib.sha256(model_bytes).digest()[:8],
        arena_bytes=2048,
        num_ops=len(model.ops),
        firmware_version="fake 0",
        board_id="fake",
        runtime="aot",
        model_name="fake",
        inputs=[spec(i) for i in model.inputs],
        outputs=[spec(i) for i in model.outputs],
    )


def _variant(info: m.DeviceInfo, name: str) -> bytes:
    """The HELLO reply body of hello-<name>: an honest reply broken in one way."""
    io0, out0 = info.inputs[0], info.outputs[0]
    change = {
        "input-bytes": lambda: info.inputs.__setitem__(0, dataclasses.replace(io0, bytes=io0.bytes + 999)),
        "output-bytes": lambda: info.outputs.__setitem__(0, dataclasses.replace(out0, bytes=out0.bytes + 3)),
        "negative-dims": lambda: info.inputs.__setitem__(0, dataclasses.replace(io0, shape=(-1, 2**31 - 1))),
        "huge-bytes": lambda: info.outputs.__setitem__(
            0, dataclasses.replace(out0, shape=(1, 2**31 - 1), bytes=2**32 - 1)
        ),
        "no-outputs": lambda: info.outputs.clear(),
        "status": lambda: setattr(info, "status", -3),
        "other-model": lambda: setattr(info, "model_sha256", b"\x01" * 8),
        "max-frame-0": lambda: setattr(info, "max_frame", 0),
        "dtype-99": lambda: info.inputs.__setitem__(0, dataclasses.replace(io0, dtype=99)),
    }
    if name in change:
        change[name]()
        return m.encode_info(info)
    body = m.encode_info(info)
    if name == "truncated":
        return body[: len(body) - 7]
    if name == "version":
        return bytes([9]) + body[1:]
    if name == "rank-200":
        head = len(m.encode_info(dataclasses.replace(info, inputs=[], outputs=[])))
        return body[:head] + bytes([9, 200]) + body[head + 2 :]
    return body  # honest: the misbehaviour comes on INFER


class FakeDevice:
    """A pty whose far end misbehaves as `behaviour` says; `path` is the port to open."""

    def __init__(self, behaviour: str, model_bytes: bytes):
        self.behaviour = behaviour
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # no echo or line editing: bytes pass as on a USB CDC port
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)
        self.info = model_info(model_bytes) if behaviour.startswith("hello") else None
        self.rng = random.Random(behaviour)
        self.noise = self.rng.randbytes(1 << 16)  # cycled through: no per-byte Python work
        self.offset = 0
        self.reader = fr.FrameReader()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name=f"fake-{behaviour}")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], PERIOD)
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    data = b""
                for event in self.reader.feed(data):
                    if isinstance(event, fr.Frame) and not event.is_reply:
                        self._send(self._answer(event))
            self._send(self._stream())

    def _send(self, data: bytes) -> None:
        if data:
            try:
                os.write(self.master, data)
            except (BlockingIOError, OSError):
                pass  # the host is not reading: a real UART would drop these bytes too

    def _stream(self) -> bytes:
        b = self.behaviour
        if b == "zeros":
            return bytes(STREAM_CHUNK)
        if b in ("noise", "noise0"):
            self.offset = (self.offset + STREAM_CHUNK) % (len(self.noise) - STREAM_CHUNK)
            chunk = self.noise[self.offset : self.offset + STREAM_CHUNK]
            return chunk.replace(b"\x00", b"\x01") if b == "noise" else chunk
        if b == "bad-crc":
            return _bad_crc(m.HELLO, self.rng.randrange(0x10000), self.rng.randbytes(40))
        if b == "boot-storm":
            return fr.encode_frame(m.BOOT, fr.SEQ_UNKNOWN, m.encode_boot(self.rng.randrange(1 << 30)))
        return b""

    def _answer(self, frame: fr.Frame) -> bytes:
        b = self.behaviour
        if b == "bad-crc" and frame.type == m.HELLO:
            return _bad_crc(m.HELLO, frame.seq, m.encode_info(m.DeviceInfo()), fr.FLAG_REPLY)
        if self.info is None:
            return b""
        if frame.type == m.HELLO:
            body = _variant(
                dataclasses.replace(self.info, inputs=list(self.info.inputs), outputs=list(self.info.outputs)),
                b[len("hello-") :],
            )
            return fr.encode_frame(m.HELLO, frame.seq, body, fr.FLAG_REPLY)
        if frame.type == m.INFER:
            return self._infer_reply(frame)
        return b""

    def _infer_reply(self, frame: fr.Frame) -> bytes:
        b = self.behaviour
        if b == "hello-silent-infer":
            return b""
        if b == "hello-short-infer":
            return fr.encode_frame(m.INFER, frame.seq, b"\x01\x02\x03", fr.FLAG_REPLY)
        if b == "hello-long-infer":
            reply = m.InferReply(10, 10, 0, 1, bytes(self.info.output_bytes + 50))
            return fr.encode_frame(m.INFER, frame.seq, m.encode_infer_reply(reply), fr.FLAG_REPLY)
        if b == "hello-error-infer":
            err = m.ErrorReply(m.ERR_MODEL_FAILED, m.INFER, frame.seq, 0, "x" * 200 + "\n*/")
            return fr.encode_frame(m.ERROR, frame.seq, m.encode_error(err), fr.FLAG_REPLY)
        if b == "hello-reboot-infer":
            return fr.encode_frame(m.BOOT, fr.SEQ_UNKNOWN, m.encode_boot(self.rng.randrange(1 << 30)))
        return b""


def _bad_crc(type_: int, seq: int, body: bytes, flags: int = 0) -> bytes:
    """A frame that decodes as COBS and has the right length, but whose CRC does not match."""
    raw = fr.HEADER.pack(type_, flags, seq & 0xFFFF) + body
    raw += struct.pack("<I", (fr.crc32(raw) ^ 0x5A5A5A5A) & 0xFFFFFFFF)
    return fr.cobs_encode(raw) + b"\x00"


BEHAVIOURS = (
    "silent",
    "zeros",
    "noise",
    "noise0",
    "bad-crc",
    "boot-storm",
    "hello-input-bytes",
    "hello-output-bytes",
    "hello-negative-dims",
    "hello-huge-bytes",
    "hello-no-outputs",
    "hello-status",
    "hello-other-model",
    "hello-max-frame-0",
    "hello-dtype-99",
    "hello-truncated",
    "hello-version",
    "hello-rank-200",
    "hello-silent-infer",
    "hello-short-infer",
    "hello-long-infer",
    "hello-error-infer",
    "hello-reboot-infer",
)
