"""Message bodies: round trips and malformed bodies (pure)."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyflow.protocol import framing as fr
from tinyflow.protocol import messages as m


def _spec(dtype, shape, scale, zero_point):
    """A spec whose byte count agrees with its shape, as every valid HELLO reply's does."""
    return m.TensorSpec(dtype, shape, scale, zero_point, math.prod(shape) * m.DTYPE_SIZES[dtype])


specs = st.builds(
    _spec,
    st.sampled_from([0, 2, 3, 7, 9]),
    st.lists(st.integers(1, 6), max_size=6).map(tuple),
    st.sampled_from([0.0, 0.5, 0.00390625, 1.25]),
    st.integers(-(2**31), 2**31 - 1),
)
text = st.text(max_size=40)
u32 = st.integers(0, 2**32 - 1)


@given(
    st.builds(
        m.DeviceInfo,
        status=st.integers(-128, 127),
        max_frame=st.integers(m.MIN_MAX_FRAME, 0xFFFF),
        rx_queue_bytes=u32,
        boot_count=u32,
        cpu_hz=u32,
        ticks_per_second=u32,
        model_bytes=u32,
        model_sha256=st.binary(min_size=8, max_size=8),
        arena_bytes=u32,
        num_ops=st.integers(0, 0xFFFF),
        firmware_version=text,
        board_id=text,
        runtime=text,
        model_name=text,
        inputs=st.lists(specs, max_size=4),
        outputs=st.lists(specs, max_size=4),
    )
)
def test_info_round_trip(info):
    assert m.decode_info(m.encode_info(info)) == info


@given(u32, u32, u32, u32, st.binary(max_size=700))
def test_infer_reply_round_trip(ticks, micros, boot, count, outs):
    r = m.InferReply(ticks, micros, boot, count, outs)
    assert m.decode_infer_reply(m.encode_infer_reply(r)) == r


@given(st.lists(st.tuples(st.text(max_size=30), u32), max_size=40))
def test_profile_round_trip(ops):
    body = m.encode_profile([t for _, t in ops], [n for n, _ in ops])
    assert m.decode_profile(body) == [
        (n.encode()[:255].decode(errors="replace") if len(n.encode()) <= 255 else n, t) for n, t in ops
    ]


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
    for decode in (
        m.decode_info,
        m.decode_infer_reply,
        m.decode_profile,
        m.decode_stats,
        m.decode_error,
        m.decode_upload,
        m.decode_boot,
        m.decode_sync,
        m.decode_sync_reply,
    ):
        try:
            decode(body)
        except fr.FrameError:
            pass


def test_other_protocol_version_is_refused_with_a_hint():
    body = bytearray(m.encode_info(m.DeviceInfo()))
    body[0] = 2
    with pytest.raises(fr.FrameError, match="protocol version 2"):
        m.decode_info(bytes(body))


@given(u32, u32)
def test_sync_round_trip(nonce, boot):
    assert m.decode_sync(m.encode_sync(nonce)) == nonce
    assert m.decode_sync_reply(m.encode_sync_reply(nonce, boot)) == (nonce, boot)
    # the barrier's whole exchange is 14 + 18 bytes on the wire: small enough for a noisy line
    assert len(fr.encode_frame(m.SYNC, 1, m.encode_sync(nonce))) <= 14
    assert len(fr.encode_frame(m.SYNC, 1, m.encode_sync_reply(nonce, boot), fr.FLAG_REPLY)) <= 18


@pytest.mark.parametrize(
    "spec, says",
    [
        (m.TensorSpec(9, (1, 4), 0.5, 0, 5), "4 elements of int8 are 4 bytes, but the device says 5"),
        (m.TensorSpec(7, (2, 3), 0.5, 0, 6), "6 elements of int16 are 12 bytes"),
        (m.TensorSpec(9, (1, 0), 0.5, 0, 0), "dimension 0"),
        (m.TensorSpec(9, (-1, 4), 0.5, 0, 4), "dimension -1"),
        (m.TensorSpec(5, (1, 4), 0.5, 0, 4), "dtype code 5"),
        (m.TensorSpec(9, (4,), float("inf"), 0, 4), "scale inf"),
        (m.TensorSpec(9, (4,), -0.5, 0, 4), "scale -0.5"),
    ],
)
def test_a_hello_reply_that_contradicts_itself_is_refused(spec, says):
    body = m.encode_info(m.DeviceInfo(inputs=[m.TensorSpec(9, (1, 4), 0.5, 0, 4)], outputs=[spec]))
    with pytest.raises(fr.FrameError, match=re.escape(says)) as err:
        m.decode_info(body)
    assert "rebuild" in err.value.hint


def test_a_hello_reply_with_outputs_too_large_for_a_reply_frame_is_refused():
    big = m.TensorSpec(9, (1 << 20,), 0.5, 0, 1 << 20)
    with pytest.raises(fr.FrameError, match="larger than"):
        m.decode_info(m.encode_info(m.DeviceInfo(inputs=[big], outputs=[big])))
    assert m.decode_info(m.encode_info(m.DeviceInfo(inputs=[big], outputs=[])))  # inputs are chunked: fine
