"""Recovery half of DeviceClient: barriers after losses, and single-sample retries that resume
chunked uploads where the device stopped (docs/protocol.md section 4).
"""

from __future__ import annotations

import time
from collections import OrderedDict

from tinyflow.errors import LinkError
from tinyflow.protocol import framing as fr
from tinyflow.protocol import messages as m

MIN_CHUNK = 64  # smallest chunk and burst (bytes) when retries shrink them


class RecoveryMixin:
    """Needs DeviceClient's state and helpers (_write, _next_event, _wait, _result, _fail...)."""

    def _barrier(self, pending: OrderedDict, retry: list, done: dict) -> None:
        """Resync: once a HELLO is answered, every earlier request was answered or lost."""
        self.counters.resyncs += 1
        seqs: set[int] = set()
        answered = False
        deadline = time.monotonic() + self.timeout
        while pending and not answered and time.monotonic() < deadline:
            seq = self._next_seq()
            seqs.add(seq)
            self._write(b"\x00" + fr.encode_frame(m.HELLO, seq))
            while time.monotonic() < deadline:  # garbage alone must not keep us here
                ev = self._next_event(self._nudge())
                if ev is None:
                    break  # the HELLO may be lost too: send another
                if isinstance(ev, fr.FrameError) or not ev.is_reply:
                    continue
                if ev.type == m.HELLO and ev.seq in seqs:
                    self._note_boot(m.decode_info(ev.body).boot_count)
                    answered = True
                    break
                if ev.type == m.BOOT:
                    self._note_boot(m.decode_boot(ev.body))
                elif ev.type == m.INFER and ev.seq in pending:
                    job = pending.pop(ev.seq)
                    try:
                        done[job.index] = self._result(job, ev)
                    except fr.FrameError:
                        self._fail(job, retry)
                deadline = time.monotonic() + self.timeout  # the device is talking: keep waiting
        for job in pending.values():
            self._fail(job, retry)
        pending.clear()
        if not answered and seqs:
            self.counters.timeouts += 1
            self.handshake()  # device silent or reset: a full handshake (raises after retries)

    def _noisy(self) -> bool:
        # Only where line time matters: an in-process device answers at once, whatever the noise.
        return self._fail_rate > 0.5 and not getattr(self.port, "instant", False)

    def _solo(self, job, done: dict, fresh: bool = False) -> None:
        """Send one sample alone, resuming a chunked upload where the device says it stopped.

        `fresh`: the sample was never sent (noisy link), so it starts at offset 0 without a probe."""
        chunked = len(job.blob) + fr.MIN_FRAME > self.info.max_frame
        known = 0 if fresh else (job.staged if self._last_sent_seq == job.seq else None)  # device's staged bytes
        first, attempts = True, 0
        best, stalled, silent = -1, 0, 0
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
                known = err.detail if err.tag == job.seq else 0
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
            if known is not None and known > best:
                best, stalled = known, 0
            else:
                stalled += 1
            if stalled >= self.max_retries:
                raise LinkError(f"Sample {job.index} failed {stalled} times in a row over the link "
                                f"({self.counters.crc_errors} bad frames, {self.counters.timeouts} timeouts)",
                                "The link is too noisy or the device stopped answering; check the cable and baud rate.")

    def _fenced_outcome(self, job):
        """(INFER reply or INFER error of this attempt, fence seen) after sending a STATS fence.

        Replies come in order, so the last INFER outcome for the job before the fence's reply is
        this attempt's (earlier ones are stale); a successful reply is final whenever it comes.
        """
        fence = self._next_seq()
        t0 = time.monotonic()
        self._write(fr.encode_frame(m.STATS, fence))
        wait = self.timeout if self._fence_rtt <= 0 else min(self.timeout, max(0.05, 4 * self._fence_rtt))
        outcome = None
        give_up = t0 + max(wait, self.timeout)  # bad or unrelated frames must not extend the wait
        while True:
            ev = self._next_event(wait) if time.monotonic() < give_up else None
            if ev is None:
                self.counters.timeouts += wait >= self.timeout
                return outcome if outcome is not None and outcome.type == m.INFER else None, False
            if isinstance(ev, fr.FrameError) or not ev.is_reply:
                continue
            if ev.type == m.BOOT:
                self._note_boot(m.decode_boot(ev.body))
            elif ev.seq == fence and ev.type == m.STATS:
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
        self.counters.resyncs += 1
        self.handshake()

