"""DeviceClient against the Python device core (in process): streaming, chunks, faults, limits."""

from __future__ import annotations

import time

import numpy as np
import pytest
from fake_runtime import FakeRuntime, fake_outputs

from tinyflow.errors import DataError, LinkError
from tinyflow.protocol import framing as fr
from tinyflow.protocol import messages as m
from tinyflow.targets.client import DeviceClient
from tinyflow.targets.device import PythonDevice, SimPort
from tinyflow.targets.faults import wrap_port


def _client(sizes=(490,), faults=None, **kw):
    rt = FakeRuntime(sizes)
    dev = PythonDevice(rt, **kw)
    port = wrap_port(SimPort(dev), faults=faults)
    return DeviceClient(port, timeout=0.5, seed=1), dev, rt, port


def _samples(n, size, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, (1, size), dtype=np.int8) for _ in range(n)]


def test_handshake_reports_the_model_and_link_limits():
    client, dev, _, _ = _client(boot_count=5)
    info = client.handshake()
    assert info.protocol_version == 1 and info.boot_count == 5 and info.max_frame == 1024
    assert info.model_name == "fake_model" and info.model_sha256 == b"\xde\xad\xbe\xef\x01\x02\x03\x04"
    assert info.inputs[0].shape == (1, 490) and info.inputs[0].zero_point == -3 and info.outputs[0].bytes == 12


@pytest.mark.parametrize("sizes", [(490,), (3072,), (27648,), (1000, 200)], ids=["inline", "chunked", "vww", "two"])
def test_stream_in_order_with_correct_outputs(sizes):
    client, dev, rt, _ = _client(sizes)
    client.handshake()
    xs = [[a[:, :n] for n in sizes] if len(sizes) > 1 else a for a in _samples(12, max(sizes))]
    results = list(client.infer_many(xs, window=4))
    assert [r.index for r in results] == list(range(12))
    for x, r in zip(xs, results):
        blob = b"".join(np.ascontiguousarray(p).tobytes() for p in (x if isinstance(x, list) else [x]))
        assert r.raw == fake_outputs(blob)
        assert r.outputs[0].shape == (1, 12) and r.outputs[0].dtype == np.int8 and r.ticks == 30
    assert rt.invocations == 12 and client.counters.retries == 0


def test_profile_and_stats():
    client, *_ = _client()
    client.infer(_samples(1, 490)[0])
    assert client.profile() == [("FAKE_SUM", 10), ("FAKE_WAIT", 20)]
    stats = client.stats()
    assert stats.infer_count == 1 and stats.arena_used == 4096


def test_wrong_sample_size_is_a_data_error():
    client, *_ = _client()
    client.handshake()
    with pytest.raises(DataError, match="489 bytes but the device's model takes 490"):
        client.infer(bytes(489))


def test_retry_of_a_lost_reply_is_served_from_the_cache():
    """Idempotent per seq: a repeated INFER does not run or count the inference again."""
    rt = FakeRuntime()
    dev = PythonDevice(rt)
    req = fr.encode_frame(m.INFER, 77, bytes(range(256)) + bytes(234))
    first, again = dev.feed(req), dev.feed(req)
    assert first == again and rt.invocations == 1 and dev.infer_count == 1


def test_chunks_out_of_order_report_where_the_device_stopped():
    dev = PythonDevice(FakeRuntime((3000,)))
    reply = dev.feed(
        fr.encode_frame(m.UPLOAD, 9, m.encode_upload(9, 0, bytes(1000)), fr.FLAG_NOACK)
        + fr.encode_frame(m.UPLOAD, 9, m.encode_upload(9, 2000, bytes(1000)), fr.FLAG_NOACK)
        + fr.encode_frame(m.UPLOAD, 9, m.encode_upload(9, 2500, bytes(10)), fr.FLAG_NOACK)
        + fr.encode_frame(m.INFER, 9)
    )
    events = fr.FrameReader().feed(reply)
    errors = [m.decode_error(e.body) for e in events]
    assert [e.name for e in errors] == ["BAD_OFFSET", "NOT_STAGED"]  # one BAD_OFFSET per broken upload
    assert (errors[1].tag, errors[1].detail) == (9, 1000)


@pytest.mark.parametrize("sizes", [(490,), (3072,), (9216,)], ids=["kws", "cifar", "person"])
def test_faults_lose_nothing_and_duplicate_nothing(sizes):
    spec = "ber=1e-4,drop=1e-4,dup=1e-4,garbage=0.02,reset_every=25,seed=7"
    client, dev, rt, port = _client(sizes, faults=spec)
    xs = _samples(60 if sizes[0] < 5000 else 20, sizes[0], seed=1)
    results = list(client.infer_many(xs, window=4))
    assert [r.index for r in results] == list(range(len(xs)))
    assert all(r.raw == fake_outputs(x.tobytes()) for x, r in zip(xs, results))
    c = client.counters
    assert port.injected["flipped"] > 0 and port.injected["resets"] >= 1
    assert c.retries > 0 and c.resets >= 1 and c.resyncs > 0


def test_faults_are_seedable():
    outs = []
    for _ in range(2):
        client, _, _, port = _client((3072,), faults="ber=1e-4,drop=1e-4,seed=11")
        list(client.infer_many(_samples(10, 3072), window=4))
        outs.append((port.injected, client.counters.to_dict()))
    assert outs[0] == outs[1]


class _DeadPort:
    """Swallows writes, never answers."""

    timeout = 0.05
    in_waiting = 0

    def write(self, data):
        return len(data)

    def read(self, size=1):
        time.sleep(0.01)
        return b""


def test_silent_device_gives_a_bounded_link_error():
    client = DeviceClient(_DeadPort(), timeout=0.1, max_retries=3)
    t0 = time.monotonic()
    with pytest.raises(LinkError, match="No HELLO reply"):
        client.handshake()
    assert time.monotonic() - t0 < 2


def test_device_that_stops_answering_mid_run_gives_a_link_error():
    client, dev, _, port = _client()
    client.handshake()
    port.write = lambda data: len(data)  # the cable is pulled: requests vanish
    with pytest.raises(LinkError):
        list(client.infer_many(_samples(5, 490), window=2))
