"""The host side of the device link (docs/protocol.md section 4): handshake, streaming inference
with a window in flight, resync and retry on faults, each sample counted exactly once.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from tinyflow.errors import BoardError, DataError, LinkError, ModelError
from tinyflow.protocol import framing as fr
from tinyflow.protocol import messages as m
from tinyflow.targets.recovery import MIN_CHUNK, RecoveryMixin
from tinyflow.tflite.dtypes import LINK_TYPES

NUMPY_DTYPES = {t.code: np.dtype(t.numpy) for t in LINK_TYPES}
POLL_SECONDS = 0.02
WINDOW_CHUNK = 2048  # bytes of a kept window per WINDOW request: an IMU window in one reply, audio in a few
MIN_CAPTURE_FRAMES = 16  # the fewest frames capture() asks for when a noisy link makes it shrink its reads
# Boot counters increment once per boot, so a jump of k is k reboots the host did not hear about
# one by one. A larger jump, or one backwards, is a counter that was re-initialised (no-init RAM
# lost at power-on): one reboot.
MAX_BOOT_JUMP = 1024
# A HELLO whose reply came back garbled is resent at once (the device is there, the line is
# noisy); this many per allowed silent attempt, so an in-process device answering only noise
# fails in seconds, not after max_retries x timeout.
GARBLED_HELLOS_PER_RETRY = 50
# Init statuses the C core reports in HELLO for models it cannot serve (firmware/src/device.c).
MODEL_STATUS = {
    -100: "has no inputs or no outputs, or more than 16 of either",
    -101: "has inputs of 0 bytes",
    -102: "streams its input without an input_rows entry, or beside other inputs",
}


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
        self.classify_info: m.ClassifyInfo | None = None  # classify(): the device's window and signal
        self.classify_lost = 0  # predictions the device overwrote before classify() read them
        self.classify_end = ""  # why the device stopped classifying ("stream ended", ...)
        self._predictions_max = 32  # predictions asked per PREDICTIONS request (adapts to the link)
        self.classify_windows_missed = 0  # unsure windows the device could not keep (every slot unread)
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

    # -- pipeline (firmware/src/pipeline.c; docs/protocol.md "Pipeline") ---------------------------
    def pipeline(self) -> m.PipelineInfo:
        """The front end the firmware runs before the model (kind 0: none). A firmware older than
        the message answers UNKNOWN_TYPE: that is reported as no front end."""
        reply = self._exchange(m.PIPELINE)
        if isinstance(reply, m.ErrorReply):
            if reply.code == m.ERR_UNKNOWN_TYPE:
                return m.PipelineInfo(0, 0, 0, 0, m.PIPELINE_NO_FEATURES)
            raise LinkError(f"The device refused PIPELINE: {reply.message}", "Check the firmware and run again.")
        return m.decode_pipeline_reply(reply.body)

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

    def monitor(self, reset: bool = False) -> m.MonitorStats:
        """The device's monitor statistics (MONITOR); `reset` clears them after reading.

        Retries reuse the seq, so a reset request that is resent after a lost reply resets once
        (the device flags that reply as replayed). An old firmware answers UNKNOWN_TYPE.
        Raises:
            LinkError: no reply after max_retries attempts; ModelError: monitor mode not built.
        """
        seq = self._next_seq()
        frame_bytes = fr.encode_frame(m.MONITOR, seq, m.encode_monitor(reset))
        start = time.monotonic()
        for _ in range(self.max_retries):
            self._write(b"\x00" + frame_bytes)
            frame = self._wait(lambda f: f.seq == seq and f.is_reply and f.type in (m.MONITOR, m.ERROR))
            if frame is not None and frame.type == m.MONITOR:
                return m.decode_monitor_reply(frame.body)
            if frame is not None:
                err = m.decode_error(frame.body)
                self.counters.device_errors += 1
                raise ModelError(
                    f"The device answered MONITOR with {err.name}: {err.message}",
                    "Use firmware built by this tinyflow with TINYFLOW_MONITOR=1, the default (sim://host, "
                    "sim://qemu-*, generated projects); sim://tflm has no monitor mode.",
                )
            self.counters.retries += 1
        raise LinkError(
            f"No MONITOR reply after {self.max_retries} attempts in {time.monotonic() - start:.1f} s",
            "Check the port and that the firmware runs the tinyflow protocol.",
        )

    # -- live classification (application mode, firmware/src/app.c; docs/protocol.md) ------------
    def classify(
        self,
        stride: int = 0,
        *,
        deadline: float | None = None,
        count: int | None = None,
        poll: float = 0.05,
        sample_below: float = 0.0,
    ):
        """Start the device classifying its sensor and yield its predictions (m.Prediction) in order.

        Args:
            stride: frames between window starts (0 = the window, no overlap).
            deadline: time.monotonic() value after which no more are read (None: until `count`, the
                end of the sensor stream, or the caller stops iterating).
            count: stop after this many predictions.
            poll: pause between PREDICTIONS requests that found nothing new, seconds.
            sample_below: opt-in sampling: a prediction whose top-1 confidence is below this carries
                its raw window (`window`, read with WINDOW); 0 = no raw input leaves the device.

        Each PREDICTIONS request acknowledges what was yielded and is idempotent by index, so a
        retried request never skips or repeats one. Predictions the device overwrote before they
        were read are counted in `classify_lost`; a device that rebooted is started again (the
        yielded indices keep counting). The device stops when the iteration ends.
        Raises:
            BoardError: no sensor at the front end's rate; ModelError: firmware without a front end.
            LinkError: the device stopped answering.
        """
        if self.info is None:
            self.handshake()
        self.classify_info = self.classify_start(stride, sample_below)
        self.classify_lost = self.classify_windows_missed = 0
        base = next_index = produced = 0
        resets = self.counters.resets
        try:
            while (count is None or produced < count) and (deadline is None or time.monotonic() < deadline):
                batch = self.predictions(next_index, 255 if count is None else min(255, count - produced))
                if batch is None:
                    if self.counters.resets == resets:
                        break  # stopped, or the stream ended (a played file)
                    resets, base, next_index = self.counters.resets, base + next_index, 0
                    self.classify_info = self.classify_start(stride, sample_below)  # a reboot forgot it
                    continue
                self.classify_lost += max(0, batch.first_index - next_index)
                for p in batch.predictions[: None if count is None else count - produced]:
                    if sample_below > 0 and kept_by_device(p, self.info.outputs[0], sample_below):
                        p.window = self.kept_window(p.index)  # its slot is free again once acknowledged
                        self.classify_windows_missed += p.window is None
                    p.index += base
                    produced += 1
                    yield p
                next_index = batch.first_index + len(batch.predictions)
                if not batch.predictions:
                    time.sleep(poll if deadline is None else max(0.0, min(poll, deadline - time.monotonic())))
        except BaseException:
            with contextlib.suppress(LinkError):  # the error on its way out says more than this one
                self.classify_stop()
            raise
        self.classify_stop()

    def classify_start(self, stride: int = 0, sample_below: float = 0.0) -> m.ClassifyInfo:
        """CLASSIFY_START (retried with its seq: the device does not restart for a retry); with
        `sample_below` > 0 the device keeps the windows whose top-1 confidence is below it."""
        body = m.encode_classify_start_sampling(stride, sample_below) if sample_below > 0 else None
        reply = self._exchange(m.CLASSIFY_START, body or m.encode_classify_start(stride))
        if isinstance(reply, m.ErrorReply):
            raise _classify_error(reply)
        return m.decode_classify_info(reply.body)

    def predictions(self, next_index: int, max_count: int = 255) -> m.PredictionBatch | None:
        """Predictions from `next_index` on (acknowledging those before it); None when the device is
        not classifying and has none left (stopped, never started, or its sensor stream ended)."""
        # A long reply is what noise garbles first: each failed attempt asks for half as many
        # (retries are idempotent by index, so the body may change), each success for twice as many.
        limit = max(1, min(max_count, self._predictions_max))
        attempts = []

        def body(attempt: int) -> bytes:
            attempts.append(attempt)
            return m.encode_predictions_request(next_index, max(1, limit >> attempt) if max_count else 0)

        reply = self._exchange(m.PREDICTIONS, body)
        if max_count:
            self._predictions_max = max(1, limit >> attempts[-1]) if attempts[-1] else min(255, 2 * limit)
        if isinstance(reply, m.ErrorReply):
            if reply.code == m.ERR_NOT_RUNNING:
                failed = "the model failed" if reply.detail == m.CLASSIFY_MODEL_FAILED else "stopped"
                self.classify_end = m.SENSOR_ERRORS.get(reply.detail, failed)
                return None
            raise _classify_error(reply)
        return m.decode_predictions(reply.body, self.info.outputs[0].bytes)

    def kept_window(self, index: int, chunk: int = WINDOW_CHUNK) -> bytes | None:
        """The raw window opt-in sampling kept for prediction `index` (device index), read in chunks
        by offset (each request is read-only: retries are safe); None when the device does not hold
        it (not below the threshold, or not kept: every slot held an unread window)."""
        data, total = bytearray(), None
        while total is None or len(data) < total:
            reply = self._exchange(m.WINDOW, m.encode_window_request(index, len(data), chunk))
            if isinstance(reply, m.ErrorReply):
                raise _classify_error(reply)
            part = m.decode_window_chunk(reply.body)
            if not part.held or part.index != index or (total is not None and part.total != total):
                return None
            if part.offset != len(data) or (not part.data and part.total > len(data)):
                raise LinkError(
                    f"WINDOW reply for window {index} has {len(part.data)} bytes at {part.offset}, "
                    f"expected them at {len(data)}",
                    "Check that the firmware and tinyflow are from the same version.",
                )
            total = part.total
            data += part.data
        return bytes(data)

    def classify_stop(self) -> tuple[int, int]:
        """CLASSIFY_STOP: (predictions made, predictions dropped unread). Stopping twice is harmless."""
        reply = self._exchange(m.CLASSIFY_STOP)
        if isinstance(reply, m.ErrorReply):
            raise _classify_error(reply)
        return m.decode_classify_stop_reply(reply.body)

    def _exchange(self, type_: int, body=b""):
        """One request with retries that reuse its seq; the reply Frame, or the device's ErrorReply.

        `body` is bytes, or a function of the attempt number (0, 1, ...) returning them. A bad
        frame triggers the next attempt at once (the reply was probably garbled: waiting would
        only let a live stream's queue overflow); bounded like the handshake: `max_retries`
        silent attempts, GARBLED_HELLOS_PER_RETRY times as many garbled ones, max_retries x timeout."""
        seq = self._next_seq()
        start = time.monotonic()
        deadline = start + self.max_retries * self.timeout
        attempt = silent = 0
        while silent < self.max_retries and attempt - silent < GARBLED_HELLOS_PER_RETRY * self.max_retries:
            data = body(attempt) if callable(body) else body
            sent = time.monotonic()
            self._write(b"\x00" + fr.encode_frame(type_, seq, data))
            attempt += 1
            frame = self._wait(
                lambda f: f.seq == seq and f.is_reply and f.type in (type_, m.ERROR),
                stop_on_error=True,
                timeout=max(0.0, min(self.timeout, deadline - sent)),
            )
            if frame is not None and frame.type == type_:
                return frame
            if frame is not None:
                self.counters.device_errors += 1
                return m.decode_error(frame.body)
            self.counters.retries += 1
            if time.monotonic() >= deadline:
                break
            if self._stopped_by_error:
                self._pause_until(sent + (0 if getattr(self.port, "instant", False) else POLL_SECONDS))
            else:
                silent += 1
        raise LinkError(
            f"No {m.TYPE_NAMES[type_]} reply after {attempt} attempts in {time.monotonic() - start:.1f} s",
            "Check the port and that the firmware runs the tinyflow protocol.",
        )

    # -- capture (firmware/src/capture.c; docs/protocol.md "Capture") -------------------------------
    def capture(
        self,
        frames: int | None = None,
        rate: int = 0,
        channels: int = 0,
        *,
        deadline: float | None = None,
        poll: float = 0.01,
    ):
        """Start the device's sensor; returns an iterator of its frames as CaptureFrames blocks, in order.

        Args:
            frames: stop after this many frames (None: until the stream ends, the deadline, or the
                caller stops iterating).
            rate, channels: what to open the sensor with (0: the sensor's own).
            deadline: time.monotonic() value after which no more are read.
            poll: pause after a read that found no new frames, seconds.

        Each CAPTURE_READ names the frame wanted next (acknowledging the ones before it), so a
        read that is lost, garbled or answered late is simply sent again: the reply carries the
        same frames, and only a reply for the offset asked is taken, so no frame is skipped or
        yielded twice. Frames the device lost (a real sensor overrun) are counted in
        `capture_lost` (0 on a played file). The capture is stopped when the iteration ends.
        Raises:
            BoardError: the device has no sensor (or not at that rate); LinkError: the device stopped
                answering, or rebooted (its stream is gone).
        """
        if self.info is None:
            self.handshake()
        # Started here, not at the first next(): the caller reads the rate in capture_info first.
        self.capture_info = self.capture_start(rate, channels)
        self.capture_lost = 0
        self._capture_burst = self.capture_info.max_frames  # frames per read: halves on failures, regrows
        return self._capture_stream(self.capture_info, frames, deadline, poll)

    def _capture_stream(self, info: m.CaptureInfo, frames: int | None, deadline: float | None, poll: float):
        offset = 0
        try:
            while (frames is None or offset < frames) and (deadline is None or time.monotonic() < deadline):
                want = self._capture_burst if frames is None else min(self._capture_burst, frames - offset)
                block = self._capture_read(offset, want)  # its offset is the one asked for
                data = np.frombuffer(block.data, dtype="<i2").astype(np.int16).reshape(block.frames, info.channels)
                self.capture_lost = block.lost_total
                if block.frames:
                    yield CaptureFrames(offset, block.ticks64, data, block.lost_before)
                offset += block.frames
                if block.ended:  # the device sets it on the block that reaches the stream's end
                    break
                if not block.frames:
                    time.sleep(poll if deadline is None else max(0.0, min(poll, deadline - time.monotonic())))
        except BaseException:
            with contextlib.suppress(LinkError):  # the error on its way out says more than this one
                self.capture_stop()
            raise
        self.capture_stop()

    def capture_start(self, rate: int = 0, channels: int = 0) -> m.CaptureInfo:
        """CAPTURE_START (retried with its seq: the device does not restart the stream for a retry)."""
        reply = self._exchange(m.CAPTURE_START, m.encode_capture_start(rate, channels))
        if isinstance(reply, m.ErrorReply):
            raise _capture_error(reply)
        return m.decode_capture_info(reply.body)

    def capture_stop(self) -> int:
        """CAPTURE_STOP: the frames the device sampled. Stopping twice is harmless."""
        reply = self._exchange(m.CAPTURE_STOP)
        if isinstance(reply, m.ErrorReply):
            raise _capture_error(reply)
        return m.decode_capture_stop_reply(reply.body)

    def _capture_read(self, offset: int, want: int) -> m.CaptureBlock:
        """One CAPTURE_READ, sent again until answered: idempotent by offset, so any reply to any
        attempt will do. A garbled frame resends at once; silences get a SYNC check (recovery.py)."""
        body = m.encode_capture_read(offset, want)
        seqs: set[int] = set()
        failures = silent = 0
        while True:
            seq = self._next_seq()
            seqs.add(seq)
            sent = time.monotonic()
            self._write(b"\x00" + fr.encode_frame(m.CAPTURE_READ, seq, body))
            frame = self._wait(
                lambda f: f.seq in seqs and f.is_reply and f.type in (m.CAPTURE_READ, m.ERROR),
                stop_on_error=True,
                timeout=self._nudge(),
            )
            if frame is not None and frame.type == m.ERROR:
                raise _capture_error(m.decode_error(frame.body), offset)
            if frame is not None:
                try:
                    block = m.decode_capture_block(frame.body, self.capture_info.channels)
                except fr.FrameError:
                    block = None
                if block is not None and block.offset == offset:
                    self._rtt = max(time.monotonic() - sent, 0.95 * self._rtt)
                    if not failures:  # a clean read: larger ones may get through too
                        self._capture_burst = min(self.capture_info.max_frames, 2 * self._capture_burst)
                    return block
            # Shorter replies survive a noisy line more often: the next reads ask for fewer frames.
            self._capture_burst = max(MIN_CAPTURE_FRAMES, self._capture_burst // 2)
            body = m.encode_capture_read(offset, min(want, self._capture_burst))
            failures += 1
            self.counters.retries += 1
            if failures >= self.max_retries:
                raise LinkError(
                    f"Capture frame {offset} failed {failures} times in a row over the link "
                    f"({self.counters.crc_errors} bad frames, {self.counters.timeouts} timeouts)",
                    "The link is too noisy or the device stopped answering; check the cable and baud rate.",
                )
            silent += frame is None and not self._stopped_by_error
            if silent >= 2:
                silent = 0
                self._resync_quiet()  # the device may be gone: a SYNC finds out (raises when it is)
            elif self._stopped_by_error:
                # Most likely this read's reply, garbled: resend after a round trip or two, not at once,
                # so a device spewing noise does not turn each bad frame into a request.
                self._pause_until(sent + min(POLL_SECONDS, 2 * self._rtt))


def _classify_error(err: m.ErrorReply) -> Exception:
    """A device's refusal of application mode, as the error a user can act on."""
    if err.code == m.ERR_NO_SENSOR:
        return BoardError(
            f"The device has no sensor for its front end ({m.SENSOR_ERRORS.get(err.detail, err.message)})",
            "On sim://host or sim://qemu-m4 play a file: ?sensor=FILE.wav (or .csv); on a board, check its sensor.",
        )
    if err.code == m.ERR_NOT_READY:
        return ModelError(
            f"The device cannot classify: {err.message}",
            "Put its front end configuration beside the model (MODEL.tflite.frontend.json, docs/frontends.md) "
            "or give --frontend NAME, and rebuild the firmware.",
        )
    if err.code == m.ERR_UNKNOWN_TYPE:
        return LinkError(
            "The device's firmware has no application mode (it answered UNKNOWN_TYPE: built before it, "
            "or with TINYFLOW_APP=0 as for the micro:bit)",
            "Rebuild and flash it with this tinyflow, on a board with a sensor port.",
        )
    return LinkError(f"The device answered {err.name}: {err.message}", "Check the firmware build and try again.")


@dataclass
class CaptureFrames:
    """Frames from the device's sensor: `data` (frames, channels) int16 from frame `offset` on."""

    offset: int
    ticks64: int  # device ticks when frame `offset` was sampled
    data: np.ndarray
    lost_before: bool = False  # the device lost frames just before this block (a sensor overrun)


def _capture_error(err: m.ErrorReply, offset: int | None = None) -> Exception:
    """A device's refusal of a capture request, as the error a user can act on."""
    if err.code == m.ERR_NO_SENSOR:
        return BoardError(
            f"The device's sensor did not open ({m.SENSOR_ERRORS.get(err.detail, err.message)})",
            "On sim://host or sim://qemu-m4 play a file: ?sensor=FILE.wav (or .csv); on a board, check its sensor "
            "and the rate and channels asked for.",
        )
    if err.code == m.ERR_NOT_RUNNING:
        return LinkError(
            f"The device is not capturing{'' if offset is None else f' at frame {offset}'}: it restarted and lost "
            "the stream",
            "Capture again; check the board's power and that nothing resets it.",
        )
    if err.code == m.ERR_UNKNOWN_TYPE:
        return LinkError(
            "The device's firmware has no capture (it answered UNKNOWN_TYPE)",
            "Rebuild and flash it with this tinyflow.",
        )
    return LinkError(f"The device answered {err.name}: {err.message}", "Check the firmware build and try again.")


def kept_by_device(p: m.Prediction, spec, below: float) -> bool:
    """Whether app.c kept this prediction's window: its top-1 dequantized in float32 as the device
    does (scale * (q - zero_point); raw for float32 outputs) is below `below`."""
    values = np.frombuffer(p.output, dtype=NUMPY_DTYPES.get(spec.dtype, np.uint8)).astype(np.float32)
    if not values.size:
        return False
    best = np.float32(values[p.top1] if p.top1 < values.size else values.max())
    if spec.dtype != 0 and spec.scale > 0:  # 0: float32 (model.h), whose values are the scores
        best = np.float32(spec.scale) * (best - np.float32(spec.zero_point))
    return bool(best < np.float32(below))
