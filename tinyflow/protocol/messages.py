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


# -- MONITOR (0x0E): running statistics of what the model saw (firmware/src/monitor.c) ---------
MONITOR = 0x0E
TYPE_NAMES[MONITOR] = "MONITOR"
MONITOR_RESET = 0x01  # request flag: reset the statistics after reading them
MONITOR_FEATURES, MONITOR_REPLAYED, MONITOR_FRONTEND = 0x01, 0x02, 0x04  # reply flags
MONITOR_BINS = 16
_MONITOR_HEAD = struct.Struct("<BBBBIIIQQHHHB")
_MONITOR_COLUMN = struct.Struct("<IqQ16I")
# Bounds of a believable reply (the firmware's defaults are 64 columns, 32 classes).
MONITOR_MAX_COLUMNS, MONITOR_MAX_CLASSES = 4096, 4096


@dataclass
class MonitorStats:
    """The MONITOR reply: counts, sums and histograms only (docs/protocol.md)."""

    version: int
    flags: int
    input_dtype: int
    output_dtype: int
    epoch: int  # resets since boot
    windows: int  # inferences observed since the last reset
    ticks: int  # device ticks spent in the monitor since the last reset (its own cost)
    elements: int  # input elements observed (tracked columns)
    saturated: int  # of those, at the dtype's minimum or maximum
    feature_dim: int  # the input's last axis (columns beyond the tracked ones are not observed)
    confidence_hist: list[int]
    class_counts: list[int]
    class_other: int  # top-1 classes beyond the tracked ones
    column_count: list[int] = field(default_factory=list)
    column_sum: list[int] = field(default_factory=list)
    column_sumsq: list[int] = field(default_factory=list)
    column_hist: list[list[int]] = field(default_factory=list)

    @property
    def replayed(self) -> bool:
        """The request's seq had already reset the statistics: this shows what came after."""
        return bool(self.flags & MONITOR_REPLAYED)


def encode_monitor(reset: bool) -> bytes:
    return bytes([MONITOR_RESET if reset else 0])


def encode_monitor_reply(s: MonitorStats) -> bytes:
    """The MONITOR reply body (tests and simulated devices)."""
    cols = len(s.column_count)
    out = bytearray(
        _MONITOR_HEAD.pack(
            s.version, s.flags, s.input_dtype, s.output_dtype, s.epoch, s.windows, s.ticks,
            s.elements, s.saturated, cols, min(s.feature_dim, 0xFFFF), len(s.class_counts), MONITOR_BINS,
        )
    )  # fmt: skip
    out += struct.pack(f"<{MONITOR_BINS}I", *s.confidence_hist)
    out += struct.pack(f"<{len(s.class_counts)}II", *s.class_counts, s.class_other)
    for c in range(cols):
        out += _MONITOR_COLUMN.pack(s.column_count[c], s.column_sum[c], s.column_sumsq[c], *s.column_hist[c])
    return bytes(out)


def decode_monitor_reply(body: bytes) -> MonitorStats:
    """Parse a MONITOR reply; every count is checked against the body's length first."""
    cur = _Cursor(body, "MONITOR")
    head = cur.unpack(_MONITOR_HEAD)
    version, flags, in_dtype, out_dtype, epoch, windows, ticks, elements, saturated, cols, dim, classes, bins = head
    if version != 1 or bins != MONITOR_BINS or cols > MONITOR_MAX_COLUMNS or classes > MONITOR_MAX_CLASSES:
        raise FrameError(
            f"MONITOR reply of version {version} with {bins} bins, {cols} columns and {classes} classes "
            f"is not one this host reads (version 1, {MONITOR_BINS} bins)"
        )
    need = _MONITOR_HEAD.size + 4 * MONITOR_BINS + 4 * (classes + 1) + cols * _MONITOR_COLUMN.size
    if len(body) != need:
        raise FrameError(f"MONITOR reply has {len(body)} bytes; its header announces {need}")
    conf = list(cur.unpack(struct.Struct(f"<{MONITOR_BINS}I")))
    *counts, other = cur.unpack(struct.Struct(f"<{classes + 1}I"))
    s = MonitorStats(version, flags, in_dtype, out_dtype, epoch, windows, ticks, elements, saturated, dim, conf,
                     list(counts), other)  # fmt: skip
    for _ in range(cols):
        count, total, sq, *hist = cur.unpack(_MONITOR_COLUMN)
        s.column_count.append(count)
        s.column_sum.append(total)
        s.column_sumsq.append(sq)
        s.column_hist.append(hist)
    return s


# -- Live classification (application mode, firmware/src/app.c; docs/protocol.md) ------------------
CLASSIFY_START, PREDICTIONS, CLASSIFY_STOP = 0x0B, 0x0C, 0x0D
TYPE_NAMES.update({CLASSIFY_START: "CLASSIFY_START", PREDICTIONS: "PREDICTIONS", CLASSIFY_STOP: "CLASSIFY_STOP"})
ERR_NO_SENSOR, ERR_NOT_RUNNING = 10, 11
ERROR_NAMES.update({ERR_NO_SENSOR: "NO_SENSOR", ERR_NOT_RUNNING: "NOT_RUNNING"})
# Sensor statuses (hal.h TINYFLOW_SENSOR_E*, negated in ERROR details).
SENSOR_ERRORS = {
    1: "no sensor",
    2: "rate or channels unsupported",
    3: "sensor I/O error",
    4: "stream ended",
    5: "not open",
}
SENSOR_ENDED = 4
CLASSIFY_MODEL_FAILED = 108  # NOT_RUNNING detail: an invoke failed and stopped the classification
_CLASSIFY_START = struct.Struct("<I")
_CLASSIFY_INFO = struct.Struct("<IBIH")
_PREDICTIONS = struct.Struct("<IB")
_PREDICTIONS_HEAD = struct.Struct("<IBI")
_PREDICTION = struct.Struct("<IQIIIH")
_CLASSIFY_STOP = struct.Struct("<II")


@dataclass
class ClassifyInfo:
    """The CLASSIFY_START reply: the window the device classifies and the signal it reads."""

    window_frames: int
    channels: int
    rate_hz: int
    num_classes: int


@dataclass
class Prediction:
    """One queued prediction; `output` is output 0's bytes as the model wrote them."""

    index: int
    ticks64: int  # device time (ticks) of the window's first frame
    read_ticks: int
    frontend_ticks: int
    model_ticks: int
    top1: int
    output: bytes
    window: bytes | None = None  # the raw window (int16 frames x channels), when opt-in sampling kept it


@dataclass
class PredictionBatch:
    """The PREDICTIONS reply."""

    first_index: int
    dropped_total: int
    predictions: list[Prediction]


def encode_classify_start(stride_frames: int) -> bytes:
    """CLASSIFY_START body: frames between window starts (0 = the window: no overlap)."""
    return _CLASSIFY_START.pack(stride_frames & 0xFFFFFFFF)


def decode_classify_start(body: bytes) -> int:
    return _Cursor(body, "CLASSIFY_START").unpack(_CLASSIFY_START)[0]


def encode_classify_info(info: ClassifyInfo) -> bytes:
    return _CLASSIFY_INFO.pack(info.window_frames, info.channels, info.rate_hz, info.num_classes)


def decode_classify_info(body: bytes) -> ClassifyInfo:
    return ClassifyInfo(*_Cursor(body, "CLASSIFY_START reply").unpack(_CLASSIFY_INFO))


def encode_predictions_request(next_index: int, max_count: int) -> bytes:
    """PREDICTIONS body: acknowledges every index below next_index, asks for up to max_count."""
    return _PREDICTIONS.pack(next_index & 0xFFFFFFFF, max(0, min(255, max_count)))


def decode_predictions_request(body: bytes) -> tuple[int, int]:
    return _Cursor(body, "PREDICTIONS").unpack(_PREDICTIONS)


def encode_predictions(batch: PredictionBatch) -> bytes:
    out = bytearray(_PREDICTIONS_HEAD.pack(batch.first_index, len(batch.predictions), batch.dropped_total))
    for p in batch.predictions:
        out += _PREDICTION.pack(p.index, p.ticks64, p.read_ticks, p.frontend_ticks, p.model_ticks, p.top1)
        out += bytes(p.output)
    return bytes(out)


def decode_predictions(body: bytes, output_bytes: int) -> PredictionBatch:
    """Parse a PREDICTIONS reply whose predictions carry `output_bytes` of output 0 each (HELLO)."""
    c = _Cursor(body, "PREDICTIONS reply")
    first, count, dropped = c.unpack(_PREDICTIONS_HEAD)
    preds = []
    for i in range(count):
        p = Prediction(*c.unpack(_PREDICTION), c.take(output_bytes))
        if p.index != first + i:
            raise FrameError(f"PREDICTIONS reply: prediction {i} has index {p.index}, expected {first + i}")
        preds.append(p)
    if c.pos != len(body):
        raise FrameError(f"PREDICTIONS reply has {len(body) - c.pos} bytes after its {count} predictions")
    return PredictionBatch(first, dropped, preds)


def encode_classify_stop_reply(predictions: int, dropped_total: int) -> bytes:
    return _CLASSIFY_STOP.pack(predictions & 0xFFFFFFFF, dropped_total & 0xFFFFFFFF)


def decode_classify_stop_reply(body: bytes) -> tuple[int, int]:
    """(predictions made, dropped_total) of a CLASSIFY_STOP reply."""
    return _Cursor(body, "CLASSIFY_STOP reply").unpack(_CLASSIFY_STOP)


# -- Capture (0x08-0x0A, firmware/src/capture.c; docs/protocol.md "Capture") -----------------------
CAPTURE_START, CAPTURE_READ, CAPTURE_STOP = 0x08, 0x09, 0x0A
TYPE_NAMES.update({CAPTURE_START: "CAPTURE_START", CAPTURE_READ: "CAPTURE_READ", CAPTURE_STOP: "CAPTURE_STOP"})
CAPTURE_ENDED, CAPTURE_LOST = 0x01, 0x02  # CAPTURE_READ reply flags
_CAPTURE_START = struct.Struct("<IB")
_CAPTURE_INFO = struct.Struct("<BBIH")
_CAPTURE_READ = struct.Struct("<IH")
_CAPTURE_BLOCK = struct.Struct("<IHBIQ")
_CAPTURE_STOP = struct.Struct("<I")


@dataclass
class CaptureInfo:
    """The CAPTURE_START reply: the sensor as opened, and the most frames one read returns."""

    kind: int  # hal.h TINYFLOW_SENSOR_*: 1 audio, 2 IMU, 3 ADC
    channels: int
    rate_hz: int
    max_frames: int


@dataclass
class CaptureBlock:
    """A CAPTURE_READ reply: `frames` frames from frame `offset` on, `data` their int16 LE values
    interleaved (frame 0 channel 0, frame 0 channel 1, ...)."""

    offset: int
    frames: int
    flags: int
    lost_total: int  # frames the device lost since CAPTURE_START before frame `offset` (a sensor overrun)
    ticks64: int  # device ticks when frame `offset` was sampled
    data: bytes

    @property
    def ended(self) -> bool:
        return bool(self.flags & CAPTURE_ENDED)

    @property
    def lost_before(self) -> bool:
        return bool(self.flags & CAPTURE_LOST)


def encode_capture_start(rate_hz: int, channels: int) -> bytes:
    """CAPTURE_START body: the rate and channel count wanted (0: the sensor's own)."""
    return _CAPTURE_START.pack(rate_hz & 0xFFFFFFFF, channels & 0xFF)


def decode_capture_start(body: bytes) -> tuple[int, int]:
    return _Cursor(body, "CAPTURE_START").unpack(_CAPTURE_START)


def encode_capture_info(info: CaptureInfo) -> bytes:
    return _CAPTURE_INFO.pack(info.kind, info.channels, info.rate_hz, info.max_frames)


def decode_capture_info(body: bytes) -> CaptureInfo:
    info = CaptureInfo(*_Cursor(body, "CAPTURE_START reply").unpack(_CAPTURE_INFO))
    if info.channels == 0 or info.rate_hz == 0 or info.max_frames == 0:
        raise FrameError(
            f"CAPTURE_START reply: {info.channels} channels at {info.rate_hz} Hz, {info.max_frames} frames per read"
        )
    return info


def encode_capture_read(offset: int, max_frames: int) -> bytes:
    """CAPTURE_READ body: the frame wanted next (acknowledges every frame before it), at most how many."""
    return _CAPTURE_READ.pack(offset & 0xFFFFFFFF, max(0, min(0xFFFF, max_frames)))


def decode_capture_read(body: bytes) -> tuple[int, int]:
    return _Cursor(body, "CAPTURE_READ").unpack(_CAPTURE_READ)


def encode_capture_block(block: CaptureBlock) -> bytes:
    return _CAPTURE_BLOCK.pack(block.offset, block.frames, block.flags, block.lost_total, block.ticks64) + block.data


def decode_capture_block(body: bytes, channels: int) -> CaptureBlock:
    """A CAPTURE_READ reply of a `channels`-channel stream; its frame count is checked against its length."""
    c = _Cursor(body, "CAPTURE_READ reply")
    offset, frames, flags, lost, ticks = c.unpack(_CAPTURE_BLOCK)
    raw = c.take(frames * channels * 2)
    if c.pos != len(body):
        raise FrameError(f"CAPTURE_READ reply has {len(body) - c.pos} bytes after its {frames} frames")
    return CaptureBlock(offset, frames, flags, lost, ticks, raw)


def encode_capture_stop_reply(frames: int) -> bytes:
    return _CAPTURE_STOP.pack(frames & 0xFFFFFFFF)


def decode_capture_stop_reply(body: bytes) -> int:
    """Frames the device sampled in the capture that stopped."""
    return _Cursor(body, "CAPTURE_STOP reply").unpack(_CAPTURE_STOP)[0]


# -- PIPELINE (0x07): the front end the firmware runs before the model (firmware/src/pipeline.c) --
PIPELINE = 0x07
TYPE_NAMES[PIPELINE] = "PIPELINE"
_PIPELINE = struct.Struct("<BBIIH")
PIPELINE_NO_FEATURES = 0xFFFF
PIPELINE_KIND_NAMES = {0: "", 1: "micro_speech", 2: "mfcc", 3: "imu"}


@dataclass
class PipelineInfo:
    """The PIPELINE reply: kind 0 = no front end (the model takes its own input)."""

    kind: int
    channels: int
    sample_rate: int
    window_frames: int
    features_output: int  # index of the features output, PIPELINE_NO_FEATURES when none

    @property
    def frontend(self) -> str:
        """The front end's name ("" for none, "kind-N" for a kind this host does not know)."""
        return PIPELINE_KIND_NAMES.get(self.kind, f"kind-{self.kind}")


def encode_pipeline_reply(p: PipelineInfo) -> bytes:
    return _PIPELINE.pack(p.kind, p.channels, p.sample_rate, p.window_frames, p.features_output)


def decode_pipeline_reply(body: bytes) -> PipelineInfo:
    kind, channels, rate, frames, features = _Cursor(body, "PIPELINE").unpack(_PIPELINE)
    return PipelineInfo(kind, channels, rate, frames, features)


# -- Opt-in sampling (WINDOW 0x0F, firmware/src/app.c; docs/protocol.md "Opt-in sampling") ---------
WINDOW = 0x0F
TYPE_NAMES.update({WINDOW: "WINDOW"})
_CLASSIFY_START_SAMPLING = struct.Struct("<If")
_WINDOW = struct.Struct("<IIH")
_WINDOW_HEAD = struct.Struct("<IBIIH")


@dataclass
class WindowChunk:
    """A WINDOW reply: bytes [offset, offset + len(data)) of the raw window kept for prediction `index`
    (`held` False: the device does not hold it: not kept, or overwritten by a later one)."""

    index: int
    held: bool
    total: int
    offset: int
    data: bytes


def encode_classify_start_sampling(stride_frames: int, sample_below: float) -> bytes:
    """CLASSIFY_START body with the opt-in: also keep windows whose top-1 confidence < sample_below."""
    return _CLASSIFY_START_SAMPLING.pack(stride_frames & 0xFFFFFFFF, sample_below)


def encode_window_request(index: int, offset: int, max_bytes: int) -> bytes:
    return _WINDOW.pack(index & 0xFFFFFFFF, offset & 0xFFFFFFFF, max(0, min(0xFFFF, max_bytes)))


def decode_window_request(body: bytes) -> tuple[int, int, int]:
    return _Cursor(body, "WINDOW").unpack(_WINDOW)


def encode_window_chunk(chunk: WindowChunk) -> bytes:
    head = _WINDOW_HEAD.pack(chunk.index, int(chunk.held), chunk.total, chunk.offset, len(chunk.data))
    return head + bytes(chunk.data)


def decode_window_chunk(body: bytes) -> WindowChunk:
    c = _Cursor(body, "WINDOW reply")
    index, held, total, offset, n = c.unpack(_WINDOW_HEAD)
    data = c.take(n)
    if c.pos != len(body) or (held and offset + n > total) or (not held and (total or n)):
        raise FrameError(f"WINDOW reply: {n} bytes at {offset} of {total} (held {held}) do not add up")
    return WindowChunk(index, bool(held), total, offset, data)
