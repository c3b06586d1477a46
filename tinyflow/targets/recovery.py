"""Recovery half of DeviceClient: loss detection for the samples in flight, SYNC barriers after
losses, and single-sample retries that resume chunked uploads where the device stopped
(docs/protocol.md section 4). Every wait here has an absolute deadline.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from tinyflow.errors import LinkError
from tinyflow.protocol import framing as fr
from tinyflow.protocol import messages as m

MIN_CHUNK = 64  # smallest chunk and burst (bytes) when retries shrink them
# An in-process device (sim://tflm's SimPort: port.instant) answers a SYNC at once or never: an
# unanswered attempt returns at once, so the next waits this long, doubling up to the cap. Without
# it a barrier whose SYNCs are all lost (--inject-faults) sent ~10,000 a second until its deadline.
SYNC_BACKOFF_S, SYNC_BACKOFF_MAX_S = 0.02, 0.25


class RecoveryMixin:
    """Needs DeviceClient's state and helpers (_write, _next_event, _wait, _result, _nudge...)."""

    def _collect(self, pending: OrderedDict, retry: list, done: dict) -> None:
        """Handle one event for the pipelined samples; failures go to `retry`."""
        # Replies come in order, so the oldest sample's reply is the one due: its deadline is fixed
        # when it was sent, and frames for anything else do not move it.
        left = next(iter(pending.values())).sent_at + self._nudge() - time.monotonic()
        ev = self._next_event(left) if left > 0 else None
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
                job.staged = err.detail if err.tag == job.seq and err.detail <= len(job.blob) else 0
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

    def _fail(self, job, retry: list, err: m.ErrorReply | None = None) -> None:
        if err is not None and err.code in (m.ERR_MODEL_FAILED, m.ERR_NOT_READY, m.ERR_BAD_LENGTH, m.ERR_UNKNOWN_TYPE):
            raise LinkError(
                f"The device refused sample {job.index}: {err.name} ({err.message})",
                "Check that the firmware was built for this model.",
            )
        job.failed = True
        self._fail_rate = 0.8 * self._fail_rate + 0.2
        retry.append(job)
        retry.sort(key=lambda j: j.index)

    def _barrier(self, pending: OrderedDict, retry: list, done: dict) -> None:
        """Resync: once a SYNC is answered, every earlier request was answered or lost.

        Replies that arrive meanwhile are still taken; an unanswered barrier leaves the samples to
        the single-sample retries, which stop the run when the device stays silent."""
        self.counters.resyncs += 1
        if not self._sync(pending, retry, done, time.monotonic() + self.timeout):
            self.counters.timeouts += 1
        for job in pending.values():
            self._fail(job, retry)
        pending.clear()

    def _sync(self, pending: OrderedDict, retry: list, done: dict, deadline: float) -> bool:
        """Send SYNC (12 bytes, 16 back: it gets through where a HELLO reply would not) until one
        is answered or `deadline` passes; True when answered."""
        self._nonce = (self._nonce + 1) & 0xFFFFFFFF
        seqs: set[int] = set()
        wait = self._sync_wait()
        backoff = SYNC_BACKOFF_S if getattr(self.port, "instant", False) else 0.0
        self._sync_heard = False  # any frame, even a bad one: the device is alive
        while time.monotonic() < deadline:
            sent = time.monotonic()
            seq = self._next_seq()
            seqs.add(seq)
            self._write(b"\x00" + fr.encode_frame(m.SYNC, seq, m.encode_sync(self._nonce)))
            attempt_end = min(deadline, time.monotonic() + wait)
            heard = False
            while True:
                left = attempt_end - time.monotonic()
                ev = self._next_event(left) if left > 0 else None
                if ev is None:
                    break  # the SYNC or its reply may be lost: send another (any reply will do)
                heard = True
                if isinstance(ev, fr.FrameError) or not ev.is_reply:
                    continue
                if self._answers_sync(ev, seqs, self._nonce):
                    return True
                if ev.type == m.BOOT:
                    self._note_boot(m.decode_boot(ev.body))
                elif ev.type == m.INFER and ev.seq in pending:
                    job = pending.pop(ev.seq)
                    try:
                        done[job.index] = self._result(job, ev)
                    except fr.FrameError:
                        self._fail(job, retry)
                    # Progress: the device is working through the queue. At most one extension
                    # per pending sample, so the barrier stays bounded.
                    deadline = max(deadline, time.monotonic() + self.timeout)
            self._sync_heard |= heard
            if not heard:
                wait = min(self.timeout, 2 * wait)  # silence, not noise: the device may be slow
            if backoff:
                self._pause_until(min(deadline, sent + backoff))
                backoff = min(SYNC_BACKOFF_MAX_S, 2 * backoff)
        return False

    def _sync_wait(self) -> float:
        """How long one SYNC may take before another is sent: a few of its round trips."""
        rtt = self._fence_rtt or self._rtt
        return self.timeout if rtt <= 0 else min(self.timeout, max(0.05, 4 * rtt))

    def _answers_sync(self, ev, seqs: set, nonce: int) -> bool:
        """Whether `ev` answers one of the SYNCs `seqs` (noting the boot counter it carries).

        A device of an earlier protocol v1 firmware answers SYNC with UNKNOWN_TYPE: in order all
        the same, so it fences just as well (its reboots show in BOOT and INFER replies)."""
        if ev.seq not in seqs:
            return False
        try:
            if ev.type == m.SYNC:
                got, boot = m.decode_sync_reply(ev.body)
                if got != nonce:
                    return False  # a stale reply from an earlier session that reused the seq
                self._note_boot(boot)
                return True
            if ev.type == m.ERROR:
                err = m.decode_error(ev.body)
                return err.code == m.ERR_UNKNOWN_TYPE and err.request_type == m.SYNC
        except fr.FrameError:
            pass  # a malformed answer answers nothing
        return False

    def _noisy(self) -> bool:
        # Only where line time matters: an in-process device answers at once, whatever the noise.
        return self._fail_rate > 0.5 and not getattr(self.port, "instant", False)

    def _solo(self, job, done: dict, fresh: bool = False) -> None:
        """Send one sample alone, resuming a chunked upload where the device says it stopped.

        `fresh`: the sample was never sent (noisy link), so it starts at offset 0 without a probe."""
        chunked = len(job.blob) + fr.MIN_FRAME > self.info.max_frame
        known = 0 if fresh else (job.staged if self._last_sent_seq == job.seq else None)  # device's staged bytes
        first, attempts = True, 0
        best, stalled, silent, lost_progress = -1, 0, 0, 0
        while True:
            self.counters.retries += not (fresh and first)
            first = False
            attempts += 1
            probe = chunked and known is None
            if probe:
                # Ask first: the INFER may have run (cached reply) or the upload may be resumable.
                self._write(b"\x00" + fr.encode_frame(m.INFER, job.seq))
            else:
                # A burst of chunks, then INFER: it runs, or its NOT_STAGED says how far we got.
                start = known or 0
                self._send_job(job, start, start + self._burst if chunked else None)
            self._last_sent_seq = job.seq
            ev, fenced = self._fenced_outcome(job)
            if ev is not None and ev.type == m.INFER:
                try:
                    done[job.index] = self._result(job, ev)
                    self._observe(job)
                    self._chunk = min(self._chunk * 2, self.info.max_frame - 14)
                    clean = fresh and attempts == 1
                    self._fail_rate = 0.8 * self._fail_rate + 0.2 * (0.0 if clean else 1.0)
                    return
                except fr.FrameError:
                    ev = None
            if ev is not None:
                err = m.decode_error(ev.body)
                self._fail_check(job, err)
                # The device's word on how far it got; a count beyond the input is not believed.
                known = err.detail if err.tag == job.seq and err.detail <= len(job.blob) else 0
            else:
                known = None  # lost or late: the next attempt asks (a late reply is still taken)
                silent += not fenced  # real silence, not a garbled reply
                if silent >= 2:
                    silent = 0
                    self._resync_quiet()  # several silences: check the device is there at all
            if not probe and (known is None or known < start + self._burst):
                self._chunk = max(MIN_CHUNK, self._chunk // 2)
            if not probe and chunked and known is not None:
                full = known >= start + self._burst
                self._burst = min(len(job.blob), self._burst * 2) if full else max(MIN_CHUNK, self._burst // 2)
            if known is not None and known < best:
                best = -1  # the device lost the staged bytes (a reset): progress counts from there
                lost_progress += 1
            if known is not None and known > best:
                best, stalled = known, 0
            else:
                stalled += 1
            if stalled >= self.max_retries or lost_progress > self.max_retries:
                what = (
                    f"failed {stalled} times in a row"
                    if stalled >= self.max_retries
                    else f"lost its staged upload {lost_progress} times (the device keeps restarting)"
                )
                raise LinkError(
                    f"Sample {job.index} {what} over the link "
                    f"({self.counters.crc_errors} bad frames, {self.counters.timeouts} timeouts)",
                    "The link is too noisy or the device stopped answering; check the cable and baud rate.",
                )

    def _fenced_outcome(self, job):
        """(INFER reply or INFER error of this attempt, fence seen) after sending a SYNC fence.

        Replies come in order, so the last INFER outcome for the job before the fence's reply is
        this attempt's (earlier ones are stale); a successful reply is final whenever it comes.
        """
        fence = self._next_seq()
        self._nonce = (self._nonce + 1) & 0xFFFFFFFF
        self._write(fr.encode_frame(m.SYNC, fence, m.encode_sync(self._nonce)))
        t0 = time.monotonic()
        wait = self._sync_wait()
        outcome = None
        give_up = t0 + max(wait, self.timeout)  # bad or unrelated frames must not extend the wait
        while True:
            left = give_up - time.monotonic()
            ev = self._next_event(min(wait, left)) if left > 0 else None
            if ev is None:
                self.counters.timeouts += wait >= self.timeout
                return outcome if outcome is not None and outcome.type == m.INFER else None, False
            if isinstance(ev, fr.FrameError) or not ev.is_reply:
                continue
            if ev.type == m.BOOT:
                self._note_boot(m.decode_boot(ev.body))
            elif self._answers_sync(ev, {fence}, self._nonce):
                self._fence_rtt = max(time.monotonic() - t0, 0.9 * self._fence_rtt)
                return outcome, True
            elif ev.seq == job.seq and ev.type == m.INFER:
                return ev, True
            elif ev.seq == job.seq and ev.type == m.ERROR and m.decode_error(ev.body).request_type == m.INFER:
                outcome = ev

    def _fail_check(self, job, err: m.ErrorReply) -> None:
        if err.code not in (m.ERR_BAD_OFFSET, m.ERR_NOT_STAGED):
            self._fail(job, [], err)

    def _resync_quiet(self) -> None:
        """Several silent attempts: check the device is there at all (SYNC; the HELLO is not resent).

        Silence for `timeout` is a dead link; noise is left to the sample's bounded retries."""
        self.counters.resyncs += 1
        start = time.monotonic()
        if not self._sync(OrderedDict(), [], {}, start + self.timeout):
            self.counters.timeouts += 1
            if not self._sync_heard:
                raise LinkError(
                    f"The device stopped answering: nothing received for {time.monotonic() - start:.1f} s "
                    f"after SYNC ({self.counters.crc_errors} bad frames, {self.counters.timeouts} "
                    "timeouts so far)",
                    "Check the cable and the baud rate, and that the board did not crash.",
                )
