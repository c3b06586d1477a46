"""Message bodies of the device link (docs/protocol.md section 2): pure encode/decode.

Decoding a malformed body raises only FrameError.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

from tinyflow.protocol.framing import HOST_MAX_FRAME, MIN_FRAME, PROTOCOL_VERSION, FrameError
from tinyflow.tflite.dtypes import LINK_TYPES

HELLO, INFER, UPLOAD, PROFILE, STATS, SYNC, BOOT, ERROR = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10, 0x7F
TYPE_NAMES = {
    HELLO: "HELLO",
    INFER: "INFER",
    UPLOAD: "UPLOAD",
    PROFILE: "PROFILE",
    STATS: "STATS",
    SYNC: "SYNC",
    BOOT: "BOOT",
    ERROR: "ERROR",
}

ERR_BAD_CRC, ERR_BAD_FRAME, ERR_TOO_LONG, ERR_UNKNOWN_TYPE, ERR_BAD_LENGTH = 1, 2, 3, 4, 5
ERR_BAD_OFFSET, ERR_NOT_STAGED, ERR_MODEL_FAILED, ERR_NOT_READY = 6, 7, 8, 9
ERROR_NAMES = {
    1: "BAD_CRC",
    2: "BAD_FRAME",
    3: "TOO_LONG",
    4: "UNKNOWN_TYPE",
    5: "BAD_LENGTH",
    6: "BAD_OFFSET",
    7: "NOT_STAGED",
    8: "MODEL_FAILED",
    9: "NOT_READY",
}

# The wire's dtype codes are the .tflite TensorType numbers (model.h's TINYFLOW_DTYPE_*).
DTYPE_NAMES = {t.code: t.numpy for t in LINK_TYPES}
DTYPE_SIZES = {t.code: t.itemsize for t in LINK_TYPES}
MAX_RANK = 6
_INFO_HEAD = struct.Struct("<BBHIIIII8sIHBB")
_SPEC_HEAD = struct.Struct("<BB")
_SPEC_TAIL = struct.Struct("<fiI")
_INFER_HEAD = struct.Struct("<IIII")
_STATS = struct.Struct("<IIIIIII")
UPLOAD_HEAD = struct.Struct("<HI")
_ERROR_HEAD = struct.Struct("<BBHI")
_SYNC = struct.Struct("<I")
_SYNC_REPLY = struct.Struct("<II")
# The outputs travel in one INFER reply, which the host reads up to HOST_MAX_FRAME.
MAX_OUTPUT_BYTES = HOST_MAX_FRAME - MIN_FRAME - _INFER_HEAD.size
MIN_MAX_FRAME = MIN_FRAME + UPLOAD_HEAD.size + 1  # room for an UPLOAD chunk of one byte
_BAD_HELLO_HINT = "The device's firmware describes its model inconsistently; rebuild and flash it with this tinyflow."


@dataclass
class TensorSpec:
    """dtype/shape/quantization of one model input or output."""

    dtype: int
    shape: tuple[int, ...]
    scale: float = 0.0
    zero_point: int = 0
    bytes: int = 0

    @property
    def dtype_name(self) -> str:
        return DTYPE_NAMES.get(self.dtype, f"type{self.dtype}")

    def to_dict(self) -> dict:
        return {
            "dtype": self.dtype_name,
            "shape": list(self.shape),
            "scale": self.scale,
            "zero_point": self.zero_point,
            "bytes": self.bytes,
        }


@dataclass
class DeviceInfo:
    """The HELLO reply: who the device is, what model it runs, and its link limits."""

    protocol_version: int = PROTOCOL_VERSION
    status: int = 0
    max_frame: int = 1024
    rx_queue_bytes: int = 4096
    boot_count: int = 0
    cpu_hz: int = 0
    ticks_per_second: int = 1_000_000
    model_bytes: int = 0
    model_sha256: bytes = b"\x00" * 8
    arena_bytes: int = 0
    num_ops: int = 0
    firmware_version: str = ""
    board_id: str = ""
    runtime: str = ""
    model_name: str = ""
    inputs: list[TensorSpec] = field(default_factory=list)
    outputs: list[TensorSpec] = field(default_factory=list)

    @property
    def input_bytes(self) -> int:
        return sum(s.bytes for s in self.inputs)

    @property
    def output_bytes(self) -> int:
        return sum(s.bytes for s in self.outputs)

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("inputs", "outputs", "model_sha256")}
        d["model_sha256"] = self.model_sha256.hex()
        d["inputs"] = [s.to_dict() for s in self.inputs]
        d["outputs"] = [s.to_dict() for s in self.outputs]
        return d


@dataclass
class InferReply:
    ticks: int
    micros: int
    boot_count: int
    infer_count: int
    outputs: bytes


@dataclass
class Stats:
    arena_used: int
    stack_high_water: int
    boot_count: int
    infer_count: int
    rx_frames: int
    rx_errors: int
    uptime_ticks: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class ErrorReply:
    code: int
    request_type: int
    tag: int
    detail: int
    message: str

    @property
    def name(self) -> str:
        return ERROR_NAMES.get(self.code, f"code {self.code}")


def _str(s: str) -> bytes:
    b = s.encode()[:255]
    return bytes([len(b)]) + b


class _Cursor:
    """Bounds-checked reader over a body; every overrun is a FrameError."""

    def __init__(self, data: bytes, what: str):
        self.data, self.pos, self.what = data, 0, what

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise FrameError(f"{self.what} body of {len(self.data)} bytes ends early (needs {self.pos + n})")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, st: struct.Struct):
        return st.unpack(self.take(st.size))

    def string(self) -> str:
        (n,) = self.take(1)
        return self.take(n).decode("utf-8", errors="replace")


def encode_info(info: DeviceInfo) -> bytes:
    """The HELLO reply body."""
    out = bytearray(
        _INFO_HEAD.pack(
            info.protocol_version,
            info.status & 0xFF,
            info.max_frame,
            info.rx_queue_bytes,
            info.boot_count,
            info.cpu_hz,
            info.ticks_per_second,
            info.model_bytes,
            bytes(info.model_sha256[:8]).ljust(8, b"\0"),
            info.arena_bytes,
            info.num_ops,
            len(info.inputs),
            len(info.outputs),
        )
    )
    for s in (info.firmware_version, info.board_id, info.runtime, info.model_name):
        out += _str(s)
    for spec in [*info.inputs, *info.outputs]:
        out += _SPEC_HEAD.pack(spec.dtype, len(spec.shape))
        out += struct.pack(f"<{len(spec.shape)}i", *spec.shape)
        out += _SPEC_TAIL.pack(spec.scale, spec.zero_point, spec.bytes)
    return bytes(out)


def decode_info(body: bytes) -> DeviceInfo:
    """Parse a HELLO reply body."""
    c = _Cursor(body, "HELLO reply")
    (ver, status, max_frame, rxq, boot, cpu, tps, mbytes, sha, arena, nops, nin, nout) = c.unpack(_INFO_HEAD)
    if ver != PROTOCOL_VERSION:
        raise FrameError(
            f"Device speaks protocol version {ver}, this host speaks {PROTOCOL_VERSION}",
            "Rebuild the firmware with this tinyflow version.",
        )
    info = DeviceInfo(
        ver,
        status if status < 128 else status - 256,
        max_frame,
        rxq,
        boot,
        cpu,
        tps,
        mbytes,
        sha,
        arena,
        nops,
        c.string(),
        c.string(),
        c.string(),
        c.string(),
    )
    for i in range(nin + nout):
        dtype, rank = c.unpack(_SPEC_HEAD)
        if rank > 6:
            raise FrameError(f"HELLO reply tensor {i} has rank {rank} (max 6)")
        dims = struct.unpack(f"<{rank}i", c.take(4 * rank))
        scale, zp, nbytes = c.unpack(_SPEC_TAIL)
        (info.inputs if i < nin else info.outputs).append(TensorSpec(dtype, tuple(dims), scale, zp, nbytes))
    check_info(info)
    return info


def check_info(info: DeviceInfo) -> None:
    """Refuse (FrameError) a HELLO reply that contradicts itself: the host sizes and shapes every
    sample and result by it, so each spec must be a tensor the link can carry."""
    if info.max_frame < MIN_MAX_FRAME:
        raise FrameError(
            f"HELLO reply: max_frame {info.max_frame} is below the minimum {MIN_MAX_FRAME}", _BAD_HELLO_HINT
        )
    for kind, specs in (("input", info.inputs), ("output", info.outputs)):
        for i, spec in enumerate(specs):
            _check_spec(f"{kind} {i}", spec)
    if info.output_bytes > MAX_OUTPUT_BYTES:
        raise FrameError(
            f"HELLO reply: outputs of {info.output_bytes:,} bytes are larger than the "
            f"{MAX_OUTPUT_BYTES:,} bytes an INFER reply may carry",
            "Evaluate a model with smaller outputs, or split it.",
        )


def _check_spec(what: str, spec: TensorSpec) -> None:
    if spec.dtype not in DTYPE_SIZES:
        raise FrameError(
            f"HELLO reply: {what} has dtype code {spec.dtype}, which the link does not carry "
            f"(it carries {', '.join(f'{c} {n}' for c, n in DTYPE_NAMES.items())})",
            _BAD_HELLO_HINT,
        )
    bad = next((d for d in spec.shape if d < 1), None)
    if bad is not None:
        raise FrameError(f"HELLO reply: {what} has dimension {bad} in shape {spec.shape}", _BAD_HELLO_HINT)
    elements = math.prod(spec.shape)
    if elements * DTYPE_SIZES[spec.dtype] != spec.bytes:
        raise FrameError(
            f"HELLO reply: {what} has shape {spec.shape}: {elements:,} elements of {spec.dtype_name} "
            f"are {elements * DTYPE_SIZES[spec.dtype]:,} bytes, but the device says {spec.bytes:,}",
            _BAD_HELLO_HINT,
        )
    if not math.isfinite(spec.scale) or spec.scale < 0:
        raise FrameError(f"HELLO reply: {what} has scale {spec.scale}", _BAD_HELLO_HINT)


def encode_infer_reply(r: InferReply) -> bytes:
    return _INFER_HEAD.pack(r.ticks & 0xFFFFFFFF, r.micros & 0xFFFFFFFF, r.boot_count, r.infer_count) + bytes(r.outputs)


def decode_infer_reply(body: bytes) -> InferReply:
    c = _Cursor(body, "INFER reply")
    ticks, micros, boot, count = c.unpack(_INFER_HEAD)
    return InferReply(ticks, micros, boot, count, body[c.pos :])


def encode_upload(tag: int, offset: int, data: bytes) -> bytes:
    """UPLOAD request body: the INFER seq the chunk belongs to, its offset, its bytes."""
    return UPLOAD_HEAD.pack(tag & 0xFFFF, offset) + bytes(data)


def decode_upload(body: bytes) -> tuple[int, int, bytes]:
    tag, offset = _Cursor(body, "UPLOAD").unpack(UPLOAD_HEAD)
    return tag, offset, body[UPLOAD_HEAD.size :]


def encode_upload_ack(tag: int, staged: int) -> bytes:
    return UPLOAD_HEAD.pack(tag & 0xFFFF, staged)


def decode_upload_ack(body: bytes) -> tuple[int, int]:
    return _Cursor(body, "UPLOAD reply").unpack(UPLOAD_HEAD)


def encode_profile(ticks: list[int], names: list[str]) -> bytes:
    out = bytearray(struct.pack("<H", len(ticks)))
    for t, n in zip(ticks, names):
        out += struct.pack("<I", t & 0xFFFFFFFF) + _str(n)
    return bytes(out)


def decode_profile(body: bytes) -> list[tuple[str, int]]:
    """(op name, ticks) per op of the last inference."""
    c = _Cursor(body, "PROFILE reply")
    (n,) = c.unpack(struct.Struct("<H"))
    out = []
    for _ in range(n):
        (t,) = c.unpack(struct.Struct("<I"))
        out.append((c.string(), t))
    return out


def encode_stats(s: Stats) -> bytes:
    return _STATS.pack(
        s.arena_used,
        s.stack_high_water,
        s.boot_count,
        s.infer_count,
        s.rx_frames,
        s.rx_errors,
        s.uptime_ticks & 0xFFFFFFFF,
    )


def decode_stats(body: bytes) -> Stats:
    return Stats(*_Cursor(body, "STATS reply").unpack(_STATS))


def encode_error(e: ErrorReply) -> bytes:
    return _ERROR_HEAD.pack(e.code, e.request_type, e.tag & 0xFFFF, e.detail & 0xFFFFFFFF) + _str(e.message)


def decode_error(body: bytes) -> ErrorReply:
    c = _Cursor(body, "ERROR reply")
    code, rtype, tag, detail = c.unpack(_ERROR_HEAD)
    return ErrorReply(code, rtype, tag, detail, c.string())


def encode_sync(nonce: int) -> bytes:
    """SYNC request body: a nonce the reply echoes (tells this barrier's reply from a stale one)."""
    return _SYNC.pack(nonce & 0xFFFFFFFF)


def decode_sync(body: bytes) -> int:
    return _Cursor(body, "SYNC").unpack(_SYNC)[0]


def encode_sync_reply(nonce: int, boot_count: int) -> bytes:
    return _SYNC_REPLY.pack(nonce & 0xFFFFFFFF, boot_count & 0xFFFFFFFF)


def decode_sync_reply(body: bytes) -> tuple[int, int]:
    """(nonce, boot_count) of a SYNC reply."""
    return _Cursor(body, "SYNC reply").unpack(_SYNC_REPLY)


def encode_boot(boot_count: int) -> bytes:
    return struct.pack("<I", boot_count)


def decode_boot(body: bytes) -> int:
    return _Cursor(body, "BOOT").unpack(struct.Struct("<I"))[0]
