"""The host side of the device link (docs/protocol.md section 4): handshake, streaming inference
with a window in flight, resync and retry on faults, each sample counted exactly once.
"""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from tinyflow.errors import DataError, LinkError, ModelError
from tinyflow.protocol import framing as fr
from tinyflow.protocol import messages as m
from tinyflow.targets.recovery import MIN_CHUNK, RecoveryMixin
from tinyflow.tflite.dtypes import LINK_TYPES

NUMPY_DTYPES = {t.code: np.dtype(t.numpy) for t in LINK_TYPES}
POLL_SECONDS = 0.02
# Boot counters increment once per boot, so a jump of k is k reboots the host did not hear about
# one by one. A larger jump, or one backwards, is a counter that was re-initialised (no-init RAM
# lost at power-on): one reboot.
MAX_BOOT_JUMP = 1024
# A HELLO whose reply came back garbled is resent at once (the device is there, the line is
# noisy); this many per allowed silent attempt, so an in-process device answering only noise
# fails in seconds, not after max_retries x timeout.
GARBLED_HELLOS_PER_RETRY = 50
# Init statuses the C core reports in HELLO for models it cannot serve (firmware/src/device.c).
MODEL_STATUS = {-100: "has no inputs or no outputs, or more than 16 of either", -101: "has inputs of 0 bytes"}


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
    staged: int | None = None  # bytes the device reported staged for this seq (resume point)
    failed: bool = False
    sent_at: float = field(default_factory=time.monotonic)


class DeviceClient(RecoveryMixin):
    """Drive a device over a pyserial-like port (read/write/timeout/in_waiting).

    Args:
        port: the open port (see tinyflow.targets.open_target).
        timeout: longest wait for a complete reply frame, seconds (an absolute deadline per
            request: bytes that do not complete a frame do not extend it).
        max_retries: consecutive failed attempts of one sample (without progress), or HELLOs
            that heard nothing, before LinkError.
        window: samples kept in flight by infer_many().
        seed: seeds the first sequence number (random by default; tests make runs repeatable).
    """

    def __init__(self, port, *, timeout: float = 5.0, max_retries: int = 10, window: int = 4, seed: int | None = None):
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
        self._burst = 4096  # bytes per attempt when a sample is retried alone (adapts)
        self._rtt = 0.0  # slowest recent request-to-reply time (decays), for early resyncs
        self._fence_rtt = 0.0  # the same for one retry attempt and its fence
        self._fail_rate = 0.0  # recent share of samples that needed a retry (decays)
        self._last_sent_seq: int | None = None
        self._stopped_by_error = False  # the last _wait() ended on a bad frame, not on its deadline
        self._sync_heard = False  # the last SYNC barrier received some frame, even a bad one
        self._nonce = random.Random(seed).getrandbits(32)
        try:
            port.timeout = POLL_SECONDS
        except (AttributeError, ValueError):
            pass

    # -- public API ----------------------------------------------------------------------
    def handshake(self) -> m.DeviceInfo:
        """HELLO until answered; returns the device info (garbage and BOOT frames are skipped).

        Bounded three ways: `max_retries` HELLOs that got no frame at all, GARBLED_HELLOS_PER_RETRY
        x max_retries that got a bad one, and max_retries x timeout for the whole handshake, so a
        device that sends only noise cannot hold it."""
        start = time.monotonic()
        deadline = start + self.max_retries * self.timeout
        bad_before = self.counters.crc_errors
        seqs: set[int] = set()
        attempts = silent = 0
        wait = self._nudge()
        garbled_max = GARBLED_HELLOS_PER_RETRY * self.max_retries
        while silent < self.max_retries and attempts - silent < garbled_max and time.monotonic() < deadline:
            seq = self._next_seq()
            seqs.add(seq)
            attempts += 1
            sent = time.monotonic()
            self._write(b"\x00" + fr.encode_frame(m.HELLO, seq))
            # A reply to any HELLO of this handshake will do: the first may only be late.
            frame = self._wait(
                lambda f: f.type == m.HELLO and f.is_reply and f.seq in seqs,
                stop_on_error=True,
                timeout=max(0.0, min(wait, deadline - sent)),
            )
            if frame is not None:
                # The first round trip known: it paces the short SYNC barriers until a SYNC is timed.
                self._fence_rtt = self._fence_rtt or time.monotonic() - sent
                return self._accept(m.decode_info(frame.body))
            if self._stopped_by_error:
                self._pause_until(sent + (0 if getattr(self.port, "instant", False) else POLL_SECONDS))
            else:
                silent += 1
                wait = min(self.timeout, wait * 2)  # short waits first: a lost HELLO is the usual case
        raise LinkError(
            f"No HELLO reply from the device after {attempts} attempts in {time.monotonic() - start:.1f} s "
            f"({self.counters.crc_errors - bad_before} bad frames received, "
            f"{silent} attempts got no frame at all)",
            "Check the port, the baud rate and that the firmware runs the tinyflow protocol.",
        )

    def _accept(self, info: m.DeviceInfo) -> m.DeviceInfo:
        """Take a (well-formed) HELLO reply, or refuse a device whose model the link cannot drive."""
        if info.status != 0:
            what = MODEL_STATUS.get(info.status)
            if what is not None:
                raise ModelError(
                    f"The device's model {what} (init status {info.status})",
                    "tinyflow sends inputs and reads outputs: use a model with both.",
                )
            raise LinkError(
                f"The device's model failed to initialise (status {info.status})",
                "Check the firmware build (arena size, ops) and flash it again.",
            )
        for kind, specs in (("inputs", info.inputs), ("outputs", info.outputs)):
            if not specs:
                raise ModelError(
                    f"The device's model has no {kind}",
                    "tinyflow sends inputs and reads outputs: use a model with both.",
                )
        self._note_boot(info.boot_count)
        self.info = info
        self._chunk = self._chunk or max(MIN_CHUNK, info.max_frame - 14)
        return info

    def infer(self, inputs) -> InferResult:
        """Run one inference; `inputs` is bytes, an array, or a list of arrays (one per input)."""
        return next(iter(self.infer_many([inputs], window=1)))

    def infer_many(self, samples, window: int | None = None):
        """Stream samples with up to `window` in flight; yields InferResult in input order."""
        if self.info is None:
            self.handshake()
        window = max(1, window or self.window)
        pending: OrderedDict[int, _Job] = OrderedDict()  # seq -> job, in send order
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
            raise DataError(
                f"Sample has {len(blob)} bytes but the device's model takes {self.info.input_bytes}",
                "Quantize the inputs to the model's input tensor (dtype and shape).",
            )
        return blob

    def _frames(self, job: _Job, start: int, end: int | None = None) -> bytes:
        """Wire bytes of a sample's input [start, end): inline INFER, or chunks + INFER."""
        if start == 0 and len(job.blob) + fr.MIN_FRAME <= self.info.max_frame:
            return fr.encode_frame(m.INFER, job.seq, job.blob)
        out = bytearray()
        step = max(1, min(self._chunk, self.info.max_frame - 14))
        end = len(job.blob) if end is None else min(end, len(job.blob))
        for off in range(start, end, step):
            body = m.encode_upload(job.seq, off, job.blob[off : min(off + step, end)])
            out += fr.encode_frame(m.UPLOAD, job.seq, body, fr.FLAG_NOACK)
        return bytes(out + fr.encode_frame(m.INFER, job.seq))

    def _send_job(self, job: _Job, start: int, end: int | None = None) -> None:
        job.failed = False
        self._write(b"\x00" + self._frames(job, start, end))  # 0x00 first: ends any torn frame
        job.sent_at = time.monotonic()  # its reply is due a few round trips after it is on the wire
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
        """The next decoded frame or FrameError, or None when none completed within `timeout` s.

        The deadline is absolute: bytes that do not complete a frame (a line held low, noise
        without a delimiter) do not extend it."""
        deadline = time.monotonic() + max(0.0, timeout)
        while not self._events:
            data = self._read()
            if data:
                self._events += self._reader.feed(data)
            elif getattr(self.port, "instant", False):
                return None  # an in-process device answers at once: nothing more is coming
            if not self._events and time.monotonic() >= deadline:
                return None
        ev = self._events.pop(0)
        if isinstance(ev, fr.FrameError):
            self.counters.crc_errors += 1
        return ev

    def _read(self) -> bytes:
        try:
            return self.port.read(max(1, getattr(self.port, "in_waiting", 0) or 0))
        except LinkError:
            raise
        except Exception as exc:
            raise LinkError(f"Reading from the device failed: {exc}", "Check the cable and the port.") from exc

    def _wait(self, match, stop_on_error: bool = False, timeout: float | None = None):
        """Skip events until one matches; None when `timeout` (default self.timeout) passes first,
        or on a bad frame when stop_on_error (then self._stopped_by_error is set)."""
        wait = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + wait  # unrelated frames and garbage do not extend it
        self._stopped_by_error = False
        while True:
            left = deadline - time.monotonic()
            ev = self._next_event(left) if left > 0 else None  # a chatty device cannot keep us here
            if ev is None:
                self.counters.timeouts += timeout is None or timeout >= self.timeout
                return None
            if isinstance(ev, fr.FrameError) and stop_on_error:
                self._stopped_by_error = True
                return None
            if isinstance(ev, fr.Frame):
                if ev.type == m.BOOT:
                    self._note_boot(m.decode_boot(ev.body))
                if match(ev):
                    return ev

    def _pause_until(self, t: float) -> None:
        """Rate limit: a device spewing bad frames must not turn each one into a request."""
        delay = t - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def _note_boot(self, boot: int) -> bool:
        """Count the reboots a boot counter value reveals; True when there was any."""
        last, self._boot = self._boot, boot
        if last is None or boot == last:
            return False
        jump = (boot - last) & 0xFFFFFFFF
        self.counters.resets += jump if jump <= MAX_BOOT_JUMP else 1
        return True

    def _request(self, type_: int) -> fr.Frame:
        start = time.monotonic()
        for _ in range(self.max_retries):
            seq = self._next_seq()
            self._write(fr.encode_frame(type_, seq))
            # The predicate is used within this iteration only, so it sees this iteration's seq.
            frame = self._wait(lambda f: f.seq == seq and f.is_reply and f.type in (type_, m.ERROR))  # noqa: B023
            if frame is not None and frame.type == type_:
                return frame
            self.counters.retries += 1
        raise LinkError(
            f"No {m.TYPE_NAMES[type_]} reply after {self.max_retries} attempts in {time.monotonic() - start:.1f} s",
            "Check the port and that the firmware runs the tinyflow protocol.",
        )

    def _result(self, job: _Job, frame: fr.Frame) -> InferResult:
        r = m.decode_infer_reply(frame.body)
        if len(r.outputs) != self.info.output_bytes:
            raise fr.FrameError(f"INFER reply carries {len(r.outputs)} output bytes, expected {self.info.output_bytes}")
        self._note_boot(r.boot_count)
        outs, at = [], 0
        for spec in self.info.outputs:
            dt = np.dtype(NUMPY_DTYPES.get(spec.dtype, np.uint8))
            outs.append(np.frombuffer(r.outputs[at : at + spec.bytes], dtype=dt).reshape(spec.shape))
            at += spec.bytes
        return InferResult(job.index, r.outputs, outs, r.ticks, r.micros, r.boot_count)

    def _nudge(self) -> float:
        """How long to wait before suspecting a lost frame: a few round trips, at most `timeout`.

        Resyncing early is harmless (a HELLO answered late still collects every reply)."""
        return self.timeout if self._rtt <= 0 else min(self.timeout, max(0.05, 4 * self._rtt))

    def _observe(self, job: _Job) -> None:
        rtt = time.monotonic() - job.sent_at
        self._rtt = max(rtt, 0.95 * self._rtt)
