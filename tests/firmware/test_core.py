"""The C core built for the host (fake model, ASan/UBSan) driven by the Python client."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import require_tool
from tinyflow.build.host import build_host_firmware
from tinyflow.protocol import framing as fr
from tinyflow.protocol import messages as m
from tinyflow.targets.client import DeviceClient
from tinyflow.targets.faults import wrap_port
from tinyflow.targets.machines.host import ProcessPort

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "targets"))
from fake_runtime import fake_outputs  # noqa: E402

pytestmark = pytest.mark.firmware

TWO_INPUTS = {"FAKE_IN0_BYTES": 2500, "FAKE_IN1_BYTES": 572}  # 3,072 B: chunked over a 1,024 B frame


@pytest.fixture(scope="module")
def exe():
    require_tool("cc")
    return build_host_firmware(fake=TWO_INPUTS, sanitize=True)


@pytest.fixture
def port(exe):
    p = ProcessPort([exe], timeout=2.0, boot_count=3)
    yield p
    p.close()
    assert "ERROR" not in p.stderr_text() and "runtime error" not in p.stderr_text(), p.stderr_text()


def _samples(n, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, (1, 3072), dtype=np.int8) for _ in range(n)]


def test_handshake_from_the_c_core(port):
    info = DeviceClient(port).handshake()
    assert info.protocol_version == 1 and info.boot_count == 3 and info.board_id == "host"
    assert [s.bytes for s in info.inputs] == [2500, 572] and info.outputs[0].bytes == 12
    assert info.inputs[0].scale == 0.5 and info.inputs[0].zero_point == -3 and info.ticks_per_second == 1_000_000
    assert info.model_sha256 == bytes.fromhex("deadbeef01020304") and info.max_frame == 1024


def test_chunked_two_input_stream_matches_the_python_reference(port):
    client = DeviceClient(port)
    xs = _samples(30)
    results = list(client.infer_many([[x[:, :2500], x[:, 2500:]] for x in xs], window=4))
    assert [r.raw for r in results] == [fake_outputs(x.tobytes()) for x in xs]
    assert [name for name, _ in client.profile()] == ["FAKE_SUM", "FAKE_WAIT"]
    stats = client.stats()
    assert stats.infer_count == 30 and stats.rx_errors == 0 and stats.arena_used == 2048


def test_faults_and_resets_against_the_c_core(port):
    faulty = wrap_port(port, faults="ber=1e-4,drop=1e-4,dup=1e-4,garbage=0.02,reset_every=15,seed=5")
    client = DeviceClient(faulty, timeout=2.0)
    xs = _samples(30, seed=2)
    results = list(client.infer_many(xs, window=4))
    assert [r.index for r in results] == list(range(30))
    assert [r.raw for r in results] == [fake_outputs(x.tobytes()) for x in xs]
    assert client.counters.resets >= 2 and faulty.injected["resets"] >= 2 and port.boot_count >= 5


def _exchange(port, wire: bytes) -> list:
    port.write(wire)
    reader, events = fr.FrameReader(), []
    # A HELLO after the requests: when its reply arrives, every earlier reply has too.
    port.write(fr.encode_frame(m.HELLO, 0xBEEF))
    while not any(isinstance(e, fr.Frame) and e.type == m.HELLO and e.seq == 0xBEEF for e in events):
        data = port.read(max(1, port.in_waiting))
        assert data, "the device stopped answering"
        events += reader.feed(data)
    return [e for e in events if isinstance(e, fr.Frame) and e.type not in (m.HELLO, m.BOOT)]


def test_error_replies_and_reply_cache(port):
    blob = bytes(range(256)) * 12
    infer = fr.encode_frame(m.UPLOAD, 5, m.encode_upload(5, 0, blob[:1000]), fr.FLAG_NOACK)
    infer += fr.encode_frame(m.UPLOAD, 5, m.encode_upload(5, 1000, blob[1000:2000]), fr.FLAG_NOACK)
    infer += fr.encode_frame(m.UPLOAD, 5, m.encode_upload(5, 2000, blob[2000:3000]), fr.FLAG_NOACK)
    infer += fr.encode_frame(m.UPLOAD, 5, m.encode_upload(5, 3000, blob[3000:]))
    infer += fr.encode_frame(m.INFER, 5)
    frames = _exchange(
        port,
        infer
        + fr.encode_frame(m.INFER, 5)  # retry: cached, not re-run
        + fr.encode_frame(m.INFER, 6, b"short")  # BAD_LENGTH
        + fr.encode_frame(m.INFER, 7)  # NOT_STAGED
        + fr.encode_frame(0x42, 8)  # UNKNOWN_TYPE
        + fr.cobs_encode(b"\x01\x00\x09\x00" + bytes(4))
        + b"\x00"  # wrong CRC
        + b"\x05\x01\x02\x00"  # torn COBS: BAD_FRAME
        + fr.encode_frame(m.INFER, 10, bytes(2000)),
    )  # longer than max_frame
    ack, first, again = frames[0], frames[1], frames[2]
    assert m.decode_upload_ack(ack.body) == (5, 3072)
    r1, r2 = m.decode_infer_reply(first.body), m.decode_infer_reply(again.body)
    assert r1.outputs == fake_outputs(blob) and r2 == r1 and r1.infer_count == 1
    errors = [m.decode_error(f.body) for f in frames[3:]]
    assert [e.name for e in errors] == ["BAD_LENGTH", "NOT_STAGED", "UNKNOWN_TYPE", "BAD_CRC", "BAD_FRAME", "TOO_LONG"]
    assert errors[0].detail == 3072 and errors[1].detail == 0
    assert [f.seq for f in frames[3:]] == [6, 7, 8] + [fr.SEQ_UNKNOWN] * 3
