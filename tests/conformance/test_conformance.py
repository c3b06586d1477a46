"""The device-link conformance suite: one set of tests every target must pass.

Runs against every simulated board in SIMULATED (adding one is a one-line change) and, with
`pytest tests/conformance --target /dev/ttyACM0` (repeatable), against real boards. A registered
simulator whose module does not exist yet is skipped locally and fails under CI=true.

A real board runs whatever model it was flashed with: the suite finds that model among the corpus
(../shared/models) by the SHA-256 prefix in the handshake, or takes $TINYFLOW_CONFORMANCE_MODEL,
to compute the reference outputs with the TFLite Micro runtime on the host.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from conftest import CORPUS, CORPUS_DIR, corpus_path, missing
from tinyflow.errors import DataError
from tinyflow.protocol import framing as fr
from tinyflow.protocol import messages as m
from tinyflow.runtimes import tflm
from tinyflow.targets.client import NUMPY_DTYPES, DeviceClient

# Every simulated board, with the marks its tests carry. The model they run is micro_speech
# (RESHAPE, DEPTHWISE_CONV_2D, FULLY_CONNECTED, SOFTMAX): its 1,960-byte input is larger than
# the 1,024-byte default receive buffer, so chunked uploads are exercised everywhere.
SIMULATED = {
    "sim://tflm": (),
    "sim://host": (pytest.mark.firmware,),
    "sim://qemu-m4": (pytest.mark.qemu, pytest.mark.arm, pytest.mark.slow),
}
SIM_MODEL = "tflm/micro_speech_quantized.tflite"
TIMEOUT = 5.0


@dataclass
class Target:
    """One target under test: how to open it and which model it runs."""

    url: str
    model: bytes | None  # None: a real board; found from its handshake
    simulated: bool

    def open(self):
        from tinyflow.workflows.device import open_device

        return open_device(self.url, model=self.model, timeout=TIMEOUT)

    def resolve_model(self, info) -> bytes:
        """The .tflite the device runs, by the SHA-256 prefix it reports; skip if unknown."""
        if self.model is not None:
            return self.model
        env = os.environ.get("TINYFLOW_CONFORMANCE_MODEL")
        for path in ([Path(env)] if env else []) + [CORPUS_DIR / rel for rel in CORPUS]:
            if path.exists() and hashlib.sha256(path.read_bytes()).digest()[:8] == bytes(info.model_sha256):
                self.model = path.read_bytes()
                return self.model
        pytest.skip(
            f"the model on {self.url} (sha256 {bytes(info.model_sha256).hex()}...) is not in the corpus; "
            "set TINYFLOW_CONFORMANCE_MODEL to its .tflite"
        )


def pytest_generate_tests(metafunc):
    if "target" in metafunc.fixturenames:
        params = [pytest.param(url, marks=marks, id=url) for url, marks in SIMULATED.items()]
        params += [
            pytest.param(url, marks=(pytest.mark.hardware,), id=url) for url in metafunc.config.getoption("--target")
        ]
        metafunc.parametrize("target", params, indirect=True)


@pytest.fixture
def target(request) -> Target:
    url = request.param
    if url not in SIMULATED:
        return Target(url, None, simulated=False)
    from tinyflow.targets import SIMULATORS

    module = SIMULATORS.get(url.split("://", 1)[1].split("?", 1)[0], "")
    if not module or importlib.util.find_spec(module) is None:
        missing(f"simulated target {url} (module {module or 'not registered in tinyflow.targets.SIMULATORS'})")
    return Target(url, corpus_path(SIM_MODEL).read_bytes(), simulated=True)


@pytest.fixture
def link(target):
    """(target, port, client, info, model bytes), closed after the test."""
    port = target.open()
    try:
        client = DeviceClient(port, timeout=TIMEOUT)
        info = client.handshake()
        yield target, port, client, info, target.resolve_model(info)
    finally:
        port.close()


def _samples(info, n: int, seed: int) -> list[np.ndarray]:
    """Random inputs over each input dtype's whole range, one buffer per sample."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        parts = []
        for spec in info.inputs:
            dt = np.dtype(NUMPY_DTYPES[spec.dtype])
            if dt.kind == "f":
                parts.append(rng.standard_normal(spec.shape).astype(dt))
            else:
                lim = np.iinfo(dt)
                parts.append(rng.integers(lim.min, int(lim.max) + 1, size=spec.shape, dtype=dt))
        out.append(parts)
    return out


def _reference(model: bytes, samples) -> list[list[bytes]]:
    ref = tflm.run(model, [s[0] if len(s) == 1 else s for s in samples])
    return [[np.ascontiguousarray(o).tobytes() for o in outs] for outs in ref]


def _raw(result) -> list[bytes]:
    return [np.ascontiguousarray(o).tobytes() for o in result.outputs]


# -- the suite -------------------------------------------------------------------------------


def test_handshake_describes_the_model(link):
    target, port, client, info, model = link
    from tinyflow.tflite import read_model

    tfl = read_model(model)
    assert info.protocol_version == fr.PROTOCOL_VERSION and info.status == 0
    assert info.model_sha256 == hashlib.sha256(model).digest()[:8] and info.model_bytes == len(model)
    assert info.runtime in ("tflm", "aot") and info.board_id and info.firmware_version
    assert info.ticks_per_second > 0 and info.arena_bytes > 0
    assert info.cpu_hz > 0 or target.url.startswith("sim://host")  # a host process has no board clock
    assert info.max_frame >= 64 and info.rx_queue_bytes >= info.max_frame
    assert info.num_ops > 0
    for spec, index in zip([*info.inputs, *info.outputs], [*tfl.inputs, *tfl.outputs]):
        t = tfl.tensors[index]
        assert np.dtype(NUMPY_DTYPES[spec.dtype]) == np.dtype(t.dtype)
        assert int(np.prod(spec.shape)) == t.size and spec.bytes == t.nbytes
        if len(t.scale):
            assert spec.scale == pytest.approx(float(t.scale[0]), rel=1e-6)
            assert spec.zero_point == int(t.zero_point[0])
    assert (len(info.inputs), len(info.outputs)) == (len(tfl.inputs), len(tfl.outputs))
    again = client.handshake()
    assert again.boot_count == info.boot_count and client.counters.resets == 0


def test_infer_matches_the_reference(link):
    target, port, client, info, model = link
    samples = _samples(info, 6, seed=1)
    ref = _reference(model, samples)
    for k, (x, want) in enumerate(zip(samples, ref)):
        r = client.infer(x)
        assert _raw(r) == want, f"sample {k} differs from the TFLM reference"
        assert r.ticks > 0 and r.micros == r.ticks * 1_000_000 // info.ticks_per_second


def test_chunked_inputs_larger_than_the_receive_buffer(link):
    target, port, client, info, model = link
    if info.input_bytes + fr.MIN_FRAME <= info.max_frame:
        if target.simulated:
            pytest.fail(f"the conformance model's input ({info.input_bytes} B) fits one frame of {info.max_frame} B")
        pytest.skip(f"the board's model input ({info.input_bytes} B) fits one frame; flash a larger model")
    sent = []
    write = port.write
    port.write = lambda data: (sent.append(bytes(data)), write(data))[1]
    try:
        samples = _samples(info, 3, seed=2)
        results = list(client.infer_many(samples, window=1))
    finally:
        port.write = write
    frames = [f for f in fr.FrameReader(1 << 20).feed(b"".join(sent)) if isinstance(f, fr.Frame)]
    assert sum(f.type == m.UPLOAD for f in frames) >= 2 * len(samples)
    assert max(len(f.body) for f in frames) + fr.MIN_FRAME <= info.max_frame
    assert [_raw(r) for r in results] == _reference(model, samples)


def test_streaming_window_keeps_order_and_results(link):
    target, port, client, info, model = link
    samples = _samples(info, 12, seed=3)
    one = [_raw(r) for r in client.infer_many(samples, window=1)]
    many = list(client.infer_many(samples, window=4))
    assert [r.index for r in many] == list(range(len(samples)))
    assert [_raw(r) for r in many] == one == _reference(model, samples)


def test_faults_and_resets_are_counted_exactly_once(link):
    from tinyflow.targets.faults import wrap_port

    target, port, client, info, model = link
    resets = ",reset_every=9" if hasattr(port, "reset") else ""
    faulty = wrap_port(port, faults=f"ber=3e-5,drop=3e-5,garbage=0.02,seed=5{resets}")
    fclient = DeviceClient(faulty, timeout=1.0 if target.simulated else TIMEOUT, max_retries=20)
    fclient.handshake()
    samples = _samples(info, 20, seed=4)
    results = list(fclient.infer_many(samples, window=4))
    assert [r.index for r in results] == list(range(len(samples)))  # none lost, none twice
    assert [_raw(r) for r in results] == _reference(model, samples)
    injected = faulty.injected
    assert injected["flipped"] + injected["dropped"] + injected["garbage"] > 0  # the link really was noisy
    if resets:
        assert faulty.injected["resets"] >= 2
        assert fclient.counters.resets == faulty.injected["resets"]


def test_wrong_input_size_is_refused(link):
    target, port, client, info, model = link
    with pytest.raises(DataError, match=f"model takes {info.input_bytes}"):
        client.infer(b"\x01" * (info.input_bytes + 1))
    # the device checks too: an INFER whose body is neither empty nor the input size
    size = min(info.input_bytes - 1, info.max_frame - fr.MIN_FRAME)
    port.write(b"\x00" + fr.encode_frame(m.INFER, 0x1234, b"\x05" * size))
    reply = client._wait(lambda f: f.seq == 0x1234 and f.is_reply)
    assert reply is not None and reply.type == m.ERROR
    err = m.decode_error(reply.body)
    assert (err.code, err.request_type, err.detail) == (m.ERR_BAD_LENGTH, m.INFER, info.input_bytes & 0xFFFF)
    x = _samples(info, 1, seed=6)
    assert _raw(client.infer(x[0])) == _reference(model, x)[0]  # and it still works


def test_profile_lists_every_op(link):
    target, port, client, info, model = link
    r = client.infer(_samples(info, 1, seed=7)[0])
    ops = client.profile()
    assert len(ops) == info.num_ops
    assert all(isinstance(name, str) and name for name, _ in ops)
    total = sum(t for _, t in ops)
    assert 0 < total <= r.ticks + len(ops)  # the ops run inside the timed inference


def test_stats_count_inferences_and_arena(link):
    target, port, client, info, model = link
    before = client.stats()
    list(client.infer_many(_samples(info, 5, seed=8), window=2))
    after = client.stats()
    assert after.infer_count - before.infer_count == 5
    assert after.boot_count == info.boot_count
    assert 0 < after.arena_used <= info.arena_bytes
    assert after.rx_frames > before.rx_frames


def test_reset_is_detected_by_the_boot_counter(link):
    target, port, client, info, model = link
    if not hasattr(port, "reset"):
        pytest.skip("this port cannot reboot the board")
    port.reset()
    x = _samples(info, 2, seed=9)
    results = list(client.infer_many(x, window=2))
    assert [_raw(r) for r in results] == _reference(model, x)
    assert client.counters.resets == 1 and results[-1].boot_count == info.boot_count + 1


def test_protocol_errors_and_resync(link):
    target, port, client, info, model = link

    def ask(frame: bytes, seq: int):
        port.write(b"\x00" + frame)
        reply = client._wait(lambda f: f.seq == seq and f.is_reply)
        assert reply is not None, f"no reply to seq {seq:#06x}"
        return reply

    # a chunk that does not start at 0 and continues nothing: BAD_OFFSET
    r = ask(fr.encode_frame(m.UPLOAD, 0x2001, m.encode_upload(0x2001, 7, b"\x01\x02")), 0x2001)
    assert r.type == m.ERROR and m.decode_error(r.body).code == m.ERR_BAD_OFFSET
    # an INFER with an empty body and nothing staged: NOT_STAGED
    r = ask(fr.encode_frame(m.INFER, 0x2002), 0x2002)
    assert r.type == m.ERROR and m.decode_error(r.body).code == m.ERR_NOT_STAGED
    # a request type the protocol does not define: UNKNOWN_TYPE, and nothing else happens
    r = ask(fr.encode_frame(0x55, 0x2003), 0x2003)
    assert r.type == m.ERROR and m.decode_error(r.body).code == m.ERR_UNKNOWN_TYPE
    # line noise and a torn frame, then a HELLO: the device resynchronises at the next delimiter
    noise = bytes(range(1, 200)) + fr.encode_frame(m.HELLO, 0x2004)[:-5]
    r = ask(noise + b"\x00" + fr.encode_frame(m.HELLO, 0x2005), 0x2005)
    assert r.type == m.HELLO and m.decode_info(r.body).boot_count == info.boot_count
    x = _samples(info, 1, seed=10)
    assert _raw(client.infer(x[0])) == _reference(model, x)[0]


def test_sync_is_a_short_in_order_barrier(link):
    """SYNC (issue 9, defect 11): the nonce and the boot counter come back in an 18-byte frame, after
    the replies to every earlier request; a body that is not a u32 nonce is BAD_LENGTH."""
    target, port, client, info, model = link
    x = _samples(info, 1, seed=11)[0]
    blob = b"".join(np.ascontiguousarray(a).tobytes() for a in x)
    wire = fr.encode_frame(m.INFER, 0x3001, blob) if len(blob) + fr.MIN_FRAME <= info.max_frame else b""
    port.write(
        b"\x00"
        + wire
        + fr.encode_frame(m.SYNC, 0x3002, m.encode_sync(0x89ABCDEF))
        + fr.encode_frame(m.SYNC, 0x3003, b"\x01\x02")
    )
    seen = []
    client._wait(
        lambda f: f.is_reply and f.seq in (0x3001, 0x3002, 0x3003) and seen.append(f) is None and f.seq == 0x3003
    )
    assert [f.seq for f in seen] == ([0x3001] if wire else []) + [0x3002, 0x3003]
    sync, bad = seen[-2], seen[-1]
    assert sync.type == m.SYNC and m.decode_sync_reply(sync.body) == (0x89ABCDEF, info.boot_count)
    assert len(fr.encode_frame(sync.type, sync.seq, sync.body, sync.flags)) <= 18
    err = m.decode_error(bad.body)
    assert bad.type == m.ERROR and (err.code, err.request_type, err.detail) == (m.ERR_BAD_LENGTH, m.SYNC, 4)
