"""The host side of the device link (docs/protocol.md section 4): handshake, streaming inference
with a window in flight, resync and retry on faults, each sample counted exactly once.
"""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from tinyflow.errors import DataError, LinkError
from tinyflow.protocol import framing as fr
from tinyflow.protocol import messages as m
from tinyflow.targets.recovery import MIN_CHUNK, RecoveryMixin

NUMPY_DTYPES = {0: np.float32, 2: np.int32, 3: np.uint8, 7: np.int16, 9: np.int8}
POLL_SECONDS = 0.02


@dataclass
class InferResult:
    """One sample's outputs and latency, as the device reported them."""

    index: int
    raw: bytes
    outputs: list[np.ndarray]
    ticks: int
    micros: int
    boot_count: int = 0

    @property
    def output(self) -> np.ndarray:
        return self.outputs[0]

    @property
    def microseconds(self) -> int:
        return self.micros


@dataclass
class Counters:
    """What the link had to do to get every sample through."""

    retries: int = 0
    resyncs: int = 0
    resets: int = 0
    crc_errors: int = 0
    timeouts: int = 0
    device_errors: int = 0

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class _Job:
    index: int
    blob: bytes
    seq: int
    attempts: int = 0
    staged: int | None = None   # bytes the device reported staged for this seq (resume point)
    failed: bool = False
    sent_at: float = field(default_factory=time.monotonic)


class DeviceClient(RecoveryMixin):
    """Drive a device over a pyserial-like port (read/write/timeout/in_waiting).

    Args:
        port: the open port (see tinyflow.targets.open_target).
        timeout: longest wait for any reply byte, seconds.
        max_retries: consecutive failed attempts of one sample (without progress) before LinkError.
        window: samples kept in flight by infer_many().
        seed: seeds the first sequence number (random by default; tests make runs repeatable).
    """

    def __init__(self, port, *, timeout: float = 5.0, max_retries: int = 10, window: int = 4,
                 seed: int | None = None):
        self.port = port
        self.timeout = timeout
        self.max_retries = max_retries
        self.window = max(1, window)
        self.counters = Counters()
        self.info: m.DeviceInfo | None = None
        self._reader = fr.FrameReader()
        self._events: list = []
        self._seq = random.Random(seed).randrange(0x10000)
        self._boot: int | None = None
        self._chunk = 0
        self._burst = 4096   # bytes per attempt when a sample is retried alone (adapts)
        self._rtt = 0.0      # slowest recent request-to-reply time (decays), for early resyncs
        self._fence_rtt = 0.0  # the same for one retry attempt and its fence
        self._fail_rate = 0.0  # recent share of samples that needed a retry (decays)
        self._last_sent_seq: int | None = None
        try:
            port.timeout = POLL_SECONDS
        except (AttributeError, ValueError):
            pass

    # -- public API ----------------------------------------------------------------------
    def handshake(self) -> m.DeviceInfo:
        """HELLO with retries; returns the device info (garbage and BOOT frames are skipped)."""
        wait = self._nudge()
        for _ in range(self.max_retries):
            seq = self._next_seq()
            self._write(b"\x00" + fr.encode_frame(m.HELLO, seq))
            # Short waits first (a lost HELLO or reply is the usual case), then up to `timeout`.
            frame = self._wait(lambda f: f.type == m.HELLO and f.seq == seq and f.is_reply, stop_on_error=True,
                               timeout=wait)
            wait = min(self.timeout, wait * 2)
            if frame is None:
                continue
            info = m.decode_info(frame.body)
            self._note_boot(info.boot_count)
            self.info = info
            self._chunk = self._chunk or max(MIN_CHUNK, info.max_frame - 14)
            if info.status != 0:
                raise LinkError(f"The device's model failed to initialise (status {info.status})",
                                "Check the firmware build (arena size, ops) and flash it again.")
            return info
        raise LinkError(f"No HELLO reply from the device after {self.max_retries} attempts of {self.timeout:g} s",
                        "Check the port, the baud rate and that the firmware runs the tinyflow protocol.")

    def infer(self, inputs) -> InferResult:
        """Run one inference; `inputs` is bytes, an array, or a list of arrays (one per input)."""
        return next(iter(self.infer_many([inputs], window=1)))

    def infer_many(self, samples, window: int | None = None):
        """Stream samples with up to `window` in flight; yields InferResult in input order."""
        if self.info is None:
            self.handshake()
        window = max(1, window or self.window)
        pending: OrderedDict[int, _Job] = OrderedDict()   # seq -> job, in send order
        retry: list[_Job] = []
        done: dict[int, InferResult] = {}
        source = iter(enumerate(samples))
        next_out, exhausted = 0, False
        while True:
            while not exhausted and not retry and len(pending) < window and self._fits(pending):
                item = next(source, None)
                if item is None:
                    exhausted = True
                    break
                job = _Job(item[0], self._blob(item[1]), self._next_seq())
                if self._noisy() and len(job.blob) + fr.MIN_FRAME > self.info.max_frame:
                    retry.append(job)  # a noisy link: large samples go straight to resumable bursts
                    break
                self._send_job(job, 0)
                pending[job.seq] = job
            if not pending and retry:
                job = retry.pop(0)
                self._solo(job, done, fresh=job.attempts == 0 and not job.failed)
            elif pending:
                self._collect(pending, retry, done)
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
            if exhausted and not pending and not retry:
                return

    def profile(self) -> list[tuple[str, int]]:
        """(op name, ticks) per op of the last inference."""
        return m.decode_profile(self._request(m.PROFILE).body)

    def stats(self) -> m.Stats:
        """Arena used, stack high-water mark, counters of the device."""
        return m.decode_stats(self._request(m.STATS).body)

    # -- sending -------------------------------------------------------------------------
    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFFF
        if self._seq == fr.SEQ_UNKNOWN:
            self._seq = 0
        return self._seq

    def _blob(self, inputs) -> bytes:
        if isinstance(inputs, (bytes, bytearray, memoryview)):
            blob = bytes(inputs)
        elif isinstance(inputs, (list, tuple)):
            blob = b"".join(np.ascontiguousarray(x).tobytes() for x in inputs)
        else:
            blob = np.ascontiguousarray(inputs).tobytes()
        if len(blob) != self.info.input_bytes:
            raise DataError(f"Sample has {len(blob)} bytes but the device's model takes {self.info.input_bytes}",
                            "Quantize the inputs to the model's input tensor (dtype and shape).")
        return blob

    def _frames(self, job: _Job, start: int, end: int | None = None) -> bytes:
        """Wire bytes of a sample's input [start, end): inline INFER, or chunks + INFER."""
        if start == 0 and len(job.blob) + fr.MIN_FRAME <= self.info.max_frame:
            return fr.encode_frame(m.INFER, job.seq, job.blob)
        out = bytearray()
        step = max(1, min(self._chunk, self.info.max_frame - 14))
        end = len(job.blob) if end is None else min(end, len(job.blob))
        for off in range(start, end, step):
            body = m.encode_upload(job.seq, off, job.blob[off:min(off + step, end)])
            out += fr.encode_frame(m.UPLOAD, job.seq, body, fr.FLAG_NOACK)
        return bytes(out + fr.encode_frame(m.INFER, job.seq))

    def _send_job(self, job: _Job, start: int, end: int | None = None) -> None:
        job.failed, job.sent_at = False, time.monotonic()
        self._write(b"\x00" + self._frames(job, start, end))  # 0x00 first: ends any torn frame
        self._last_sent_seq = job.seq

    def _fits(self, pending) -> bool:
        if not pending:
            return True
        in_flight = sum(len(j.blob) for j in pending.values())
        return in_flight + self.info.input_bytes <= self.info.rx_queue_bytes

    def _write(self, data: bytes) -> None:
        try:
            self.port.write(data)
        except LinkError:
            raise
        except Exception as exc:  # pyserial's SerialException, OSError, write timeouts
            raise LinkError(f"Writing to the device failed: {exc}", "Check the cable and the port.") from exc

    # -- receiving -----------------------------------------------------------------------
    def _next_event(self, timeout: float):
        """The next decoded frame or FrameError, or None when nothing arrived for `timeout` s."""
        deadline = time.monotonic() + timeout
        while not self._events:
            try:
                data = self.port.read(max(1, getattr(self.port, "in_waiting", 0) or 0))
            except LinkError:
                raise
            except Exception as exc:
                raise LinkError(f"Reading from the device failed: {exc}", "Check the cable and the port.") from exc
            if data:
                self._events += self._reader.feed(data)
                deadline = time.monotonic() + timeout
            elif time.monotonic() >= deadline:
                return None
            elif getattr(self.port, "instant", False):
                return None  # an in-process device answers at once: nothing more is coming
        ev = self._events.pop(0)
        if isinstance(ev, fr.FrameError):
            self.counters.crc_errors += 1
        return ev

    def _wait(self, match, stop_on_error: bool = False, timeout: float | None = None):
        """Skip events until one matches; None on timeout (or on a bad frame when stop_on_error)."""
        wait = self.timeout if timeout is None else timeout
        give_up = time.monotonic() + 4 * wait  # a device that only sends other frames must not hold us
        while True:
            ev = self._next_event(wait) if time.monotonic() < give_up else None
            if ev is None:
                self.counters.timeouts += timeout is None or timeout >= self.timeout
                return None
            if isinstance(ev, fr.FrameError) and stop_on_error:
                return None
            if isinstance(ev, fr.Frame):
                if ev.type == m.BOOT:
                    self._note_boot(m.decode_boot(ev.body))
                if match(ev):
                    return ev

    def _note_boot(self, boot: int) -> bool:
        changed = self._boot is not None and boot != self._boot
        if changed:
            self.counters.resets += 1
        self._boot = boot
        return changed

    def _request(self, type_: int) -> fr.Frame:
        for _ in range(self.max_retries):
            seq = self._next_seq()
            self._write(fr.encode_frame(type_, seq))
            frame = self._wait(lambda f: f.seq == seq and f.is_reply and f.type in (type_, m.ERROR))
            if frame is not None and frame.type == type_:
                return frame
            self.counters.retries += 1
        raise LinkError(f"No {m.TYPE_NAMES[type_]} reply after {self.max_retries} attempts",
                        "Check the port and that the firmware runs the tinyflow protocol.")

    def _result(self, job: _Job, frame: fr.Frame) -> InferResult:
        r = m.decode_infer_reply(frame.body)
        if len(r.outputs) != self.info.output_bytes:
            raise fr.FrameError(f"INFER reply carries {len(r.outputs)} output bytes, expected {self.info.output_bytes}")
        self._note_boot(r.boot_count)
        outs, at = [], 0
        for spec in self.info.outputs:
            dt = np.dtype(NUMPY_DTYPES.get(spec.dtype, np.uint8))
            outs.append(np.frombuffer(r.outputs[at:at + spec.bytes], dtype=dt).reshape(spec.shape))
            at += spec.bytes
        return InferResult(job.index, r.outputs, outs, r.ticks, r.micros, r.boot_count)

    def _nudge(self) -> float:
        """How long to wait before suspecting a lost frame: a few round trips, at most `timeout`.

        Resyncing early is harmless (a HELLO answered late still collects every reply)."""
        return self.timeout if self._rtt <= 0 else min(self.timeout, max(0.05, 4 * self._rtt))

    def _observe(self, job: _Job) -> None:
        rtt = time.monotonic() - job.sent_at
        self._rtt = max(rtt, 0.95 * self._rtt)

    def _collect(self, pending: OrderedDict, retry: list, done: dict) -> None:
        """Handle one event for the pipelined samples; failures go to `retry`."""
        ev = self._next_event(self._nudge())
        if ev is None:
            self._barrier(pending, retry, done)
            return
        if isinstance(ev, fr.FrameError):
            # Maybe a reply was corrupted: a barrier finds out now instead of after a timeout.
            self._barrier(pending, retry, done)
            return
        if not ev.is_reply:
            return
        if ev.type == m.BOOT:
            self._note_boot(m.decode_boot(ev.body))
            self._barrier(pending, retry, done)
        elif ev.type == m.ERROR:
            err = m.decode_error(ev.body)
            self.counters.device_errors += 1
            job = pending.get(ev.seq)
            if job is None:
                if ev.seq == fr.SEQ_UNKNOWN:
                    self._barrier(pending, retry, done)
                return
            if err.code in (m.ERR_BAD_OFFSET, m.ERR_NOT_STAGED):
                job.staged = err.detail if err.tag == job.seq else 0
            if err.request_type != m.UPLOAD:  # the sample's INFER failed: its attempt is over
                self._fail(pending.pop(ev.seq), retry, err)
        elif ev.type == m.INFER and ev.seq in pending:
            # Replies come in request order: older samples still pending lost theirs.
            for seq in list(pending):
                if seq == ev.seq:
                    break
                self._fail(pending.pop(seq), retry)
            job = pending.pop(ev.seq)
            try:
                done[job.index] = self._result(job, ev)
                self._observe(job)
                self._fail_rate *= 0.8
            except fr.FrameError:
                self._fail(job, retry)

    def _fail(self, job: _Job, retry: list, err: m.ErrorReply | None = None) -> None:
        if err is not None and err.code in (m.ERR_MODEL_FAILED, m.ERR_NOT_READY, m.ERR_BAD_LENGTH,
                                            m.ERR_UNKNOWN_TYPE):
            raise LinkError(f"The device refused sample {job.index}: {err.name} ({err.message})",
                            "Check that the firmware was built for this model.")
        job.failed = True
        self._fail_rate = 0.8 * self._fail_rate + 0.2
        retry.append(job)
        retry.sort(key=lambda j: j.index)
