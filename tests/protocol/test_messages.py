"""Message bodies: round trips and malformed bodies (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyflow.protocol import framing as fr
from tinyflow.protocol import messages as m

specs = st.builds(m.TensorSpec, st.sampled_from([0, 2, 3, 7, 9]),
                  st.lists(st.integers(-2**31, 2**31 - 1), max_size=6).map(tuple),
                  st.sampled_from([0.0, 0.5, 0.00390625, 1.25]), st.integers(-2**31, 2**31 - 1),
                  st.integers(0, 2**32 - 1))
text = st.text(max_size=40)
u32 = st.integers(0, 2**32 - 1)


@given(st.builds(m.DeviceInfo, status=st.integers(-128, 127), max_frame=st.integers(0, 0xFFFF),
                 rx_queue_bytes=u32, boot_count=u32, cpu_hz=u32, ticks_per_second=u32, model_bytes=u32,
                 model_sha256=st.binary(min_size=8, max_size=8), arena_bytes=u32, num_ops=st.integers(0, 0xFFFF),
                 firmware_version=text, board_id=text, runtime=text, model_name=text,
                 inputs=st.lists(specs, max_size=4), outputs=st.lists(specs, max_size=4)))
def test_info_round_trip(info):
    assert m.decode_info(m.encode_info(info)) == info


@given(u32, u32, u32, u32, st.binary(max_size=700))
def test_infer_reply_round_trip(ticks, micros, boot, count, outs):
    r = m.InferReply(ticks, micros, boot, count, outs)
    assert m.decode_infer_reply(m.encode_infer_reply(r)) == r


@given(st.lists(st.tuples(st.text(max_size=30), u32), max_size=40))
def test_profile_round_trip(ops):
    body = m.encode_profile([t for _, t in ops], [n for n, _ in ops])
    assert m.decode_profile(body) == [(n.encode()[:255].decode(errors="replace") if len(n.encode()) <= 255 else n, t)
                                      for n, t in ops]


@given(st.integers(0, 255), st.integers(0, 255), st.integers(0, 0xFFFF), u32, st.text(max_size=50))
def test_error_round_trip(code, rtype, tag, detail, msg):
    e = m.ErrorReply(code, rtype, tag, detail, msg)
    assert m.decode_error(m.encode_error(e)) == e


def test_upload_and_stats_round_trip():
    assert m.decode_upload(m.encode_upload(7, 1000, b"abc")) == (7, 1000, b"abc")
    s = m.Stats(1, 2, 3, 4, 5, 6, 7)
    assert m.decode_stats(m.encode_stats(s)) == s


@given(st.binary(max_size=200))
def test_truncated_or_random_bodies_raise_only_frame_errors(body):
    for decode in (m.decode_info, m.decode_infer_reply, m.decode_profile, m.decode_stats, m.decode_error,
                   m.decode_upload, m.decode_boot):
        try:
            decode(body)
        except fr.FrameError:
            pass


def test_other_protocol_version_is_refused_with_a_hint():
    body = bytearray(m.encode_info(m.DeviceInfo()))
    body[0] = 2
    with pytest.raises(fr.FrameError, match="protocol version 2"):
        m.decode_info(bytes(body))
