"""The device link's wire format (docs/protocol.md): framing and messages, pure."""

from tinyflow.protocol.framing import (
    FLAG_NOACK,
    FLAG_REPLY,
    PROTOCOL_VERSION,
    Frame,
    FrameError,
    FrameReader,
    cobs_decode,
    cobs_encode,
    crc32,
    decode_frame,
    encode_frame,
)
from tinyflow.protocol.messages import DeviceInfo, ErrorReply, InferReply, Stats, TensorSpec

__all__ = [
    "FLAG_NOACK",
    "FLAG_REPLY",
    "PROTOCOL_VERSION",
    "DeviceInfo",
    "ErrorReply",
    "Frame",
    "FrameError",
    "FrameReader",
    "InferReply",
    "Stats",
    "TensorSpec",
    "cobs_decode",
    "cobs_encode",
    "crc32",
    "decode_frame",
    "encode_frame",
]
