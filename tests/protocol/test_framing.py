"""Frames: COBS, CRC-32, header, incremental reader with resync (pure, no compiler)."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyflow.errors import LinkError
from tinyflow.protocol import framing as fr


@pytest.mark.parametrize(
    "raw, encoded",
    [
        (b"", b"\x01"),
        (b"\x00", b"\x01\x01"),
        (b"\x11\x22\x00\x33", b"\x03\x11\x22\x02\x33"),
        (bytes(range(1, 255)), b"\xff" + bytes(range(1, 255)) + b"\x01"),
    ],
)
def test_cobs_known_vectors(raw, encoded):
    assert fr.cobs_encode(raw) == encoded
    assert fr.cobs_decode(encoded) == raw


def test_crc_is_zlib_crc32():
    assert fr.crc32(b"123456789") == 0xCBF43926 == zlib.crc32(b"123456789")


@given(st.binary(max_size=2000))
def test_cobs_round_trip_has_no_zero(data):
    enc = fr.cobs_encode(data)
    assert 0 not in enc
    assert len(enc) <= len(data) + len(data) // 254 + 1
    assert fr.cobs_decode(enc) == data


@given(st.integers(0, 255), st.integers(0, 0xFFFF), st.binary(max_size=1500), st.integers(0, 3))
def test_frame_round_trip(type_, seq, body, flags):
    wire = fr.encode_frame(type_, seq, body, flags)
    assert wire.endswith(b"\x00") and wire.count(0) == 1
    assert fr.decode_frame(wire[:-1]) == fr.Frame(type_, seq, body, flags)


@settings(max_examples=300)
@given(st.binary(max_size=600))
def test_decoding_garbage_raises_only_frame_errors(data):
    try:
        fr.decode_frame(data)
    except fr.FrameError as exc:
        assert isinstance(exc, LinkError) and exc.message
    events = fr.FrameReader(max_frame=256).feed(data)
    assert all(isinstance(e, (fr.Frame, fr.FrameError)) for e in events)


@given(st.binary(max_size=300), st.binary(max_size=300), st.integers(1, 64))
def test_reader_resyncs_after_garbage_in_any_split(garbage, body, split):
    """Garbage (a boot banner, a torn frame) costs at most the frame it touches."""
    wire = garbage + b"\x00" + fr.encode_frame(0x02, 7, body) + fr.encode_frame(0x01, 8)
    reader, frames = fr.FrameReader(), []
    for i in range(0, len(wire), split):
        frames += [e for e in reader.feed(wire[i : i + split]) if isinstance(e, fr.Frame)]
    assert frames[-2:] == [fr.Frame(0x02, 7, body), fr.Frame(0x01, 8)]


def test_every_single_bit_error_is_detected():
    wire = fr.encode_frame(0x02, 1, bytes(range(200)))
    for i in range(len(wire) - 1):
        for bit in range(8):
            bad = bytearray(wire)
            bad[i] ^= 1 << bit
            events = fr.FrameReader().feed(bytes(bad))
            assert not any(isinstance(e, fr.Frame) for e in events), (i, bit)


def test_overlong_frame_is_dropped_and_next_frame_survives():
    reader = fr.FrameReader(max_frame=64)
    events = reader.feed(fr.encode_frame(2, 1, bytes(500)) + fr.encode_frame(1, 2))
    assert isinstance(events[0], fr.FrameError) and "longer" in events[0].message
    assert events[1] == fr.Frame(1, 2)
