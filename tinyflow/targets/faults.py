"""Testing aids for the device link: a seedable fault injector and a baud-rate throttle.

Both wrap any pyserial-like port and are usable from the CLI:
`--inject-faults ber=1e-4,drop=1e-4,reset_every=500` and `--baud 115200`.

Fault spec keys (all optional): ber (bit error rate, per bit, both directions), drop and dup
(probability per byte that it is lost or sent twice), garbage (probability per host write that
the device emits a burst of noise, like a boot banner), reset_every (reboot the simulated
device after every N-th sample the host sends, mid-write), seed.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from tinyflow.errors import UsageError
from tinyflow.protocol import framing as fr
from tinyflow.protocol import messages as m
from tinyflow.targets.port import Port


@dataclass
class FaultSpec:
    ber: float = 0.0
    drop: float = 0.0
    dup: float = 0.0
    garbage: float = 0.0
    reset_every: int = 0
    seed: int = 0

    @property
    def active(self) -> bool:
        return bool(self.ber or self.drop or self.dup or self.garbage or self.reset_every)


RATES = ("ber", "drop", "dup", "garbage")
COUNTS = ("reset_every", "seed")


def parse_faults(spec: str | FaultSpec | None) -> FaultSpec:
    """`ber=1e-4,drop=1e-4,reset_every=500,seed=1` -> FaultSpec; UsageError when malformed."""
    if spec is None or isinstance(spec, FaultSpec):
        return spec or FaultSpec()
    out = FaultSpec()
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key, _, value = part.partition("=")
        key = key.strip().replace("-", "_")
        if key not in FaultSpec.__dataclass_fields__ or not value:
            raise UsageError(
                f"Unknown fault '{part}' in --inject-faults {spec!r}",
                "Use keys ber, drop, dup, garbage, reset_every, seed, e.g. ber=1e-4,drop=1e-4,reset_every=500.",
            )
        setattr(out, key, _number(key, value.strip()))
    return out


def _number(key: str, value: str) -> float | int:
    """The value of one fault key, checked against its range (rates: finite, 0..1; counts: >= 0)."""
    try:
        num = int(value) if key in COUNTS else float(value)
    except ValueError:
        raise UsageError(
            f"Fault '{key}' needs a number, received {value!r}", "For example ber=1e-4 or reset_every=500."
        ) from None
    if key in RATES and not (math.isfinite(num) and 0.0 <= num <= 1.0):
        raise UsageError(
            f"Fault '{key}' is a probability, received {value}", f"Use a finite rate between 0 and 1, e.g. {key}=1e-4."
        )
    if key in COUNTS and num < 0:
        raise UsageError(f"Fault '{key}' is a count, received {value}", f"Use a whole number >= 0, e.g. {key}=500.")
    return num


class _Wrapper(Port):
    """Forwards the pyserial surface to an inner port (read/write: the subclass's own)."""

    instant = False

    def __init__(self, port):
        self.inner = port

    @property
    def timeout(self):
        return self.inner.timeout

    @timeout.setter
    def timeout(self, value):
        self.inner.timeout = value

    @property
    def is_open(self):
        return getattr(self.inner, "is_open", True)

    def flush(self):
        getattr(self.inner, "flush", lambda: None)()

    def reset(self):
        self.inner.reset()

    def reset_output_buffer(self):
        getattr(self.inner, "reset_output_buffer", lambda: None)()

    def close(self):
        self.inner.close()

    def __getattr__(self, name):  # emulation details, output(), ... of the inner port
        return getattr(self.inner, name)


class FaultyPort(_Wrapper):
    """Corrupts, drops and duplicates bytes both ways, injects noise, and reboots the device."""

    def __init__(self, port, spec: FaultSpec):
        super().__init__(port)
        self.spec = spec
        self.instant = getattr(port, "instant", False)
        self.rng = np.random.default_rng(spec.seed)
        self._p_byte = 1.0 - (1.0 - spec.ber) ** 8
        self._infers = 0
        self._last_seq = None
        self._scan = fr.FrameReader()
        self._rx = bytearray()
        self.injected = {"flipped": 0, "dropped": 0, "duplicated": 0, "garbage": 0, "resets": 0}
        if spec.reset_every and not hasattr(port, "reset"):
            raise UsageError(
                "reset_every needs a simulated target that can be rebooted (sim://...)",
                "Drop reset_every from --inject-faults for a real board.",
            )

    def _mangle(self, data: bytes) -> bytes:
        if not data or not (self._p_byte or self.spec.drop or self.spec.dup):
            return data
        arr = np.frombuffer(bytes(data), dtype=np.uint8).copy()
        n = len(arr)
        flip = self.rng.random(n) < self._p_byte
        if flip.any():
            arr[flip] ^= (1 << self.rng.integers(0, 8, int(flip.sum()))).astype(np.uint8)
        keep = self.rng.random(n) >= self.spec.drop
        dup = self.rng.random(n) < self.spec.dup
        self.injected["flipped"] += int(flip.sum())
        self.injected["dropped"] += int(n - keep.sum())
        self.injected["duplicated"] += int(dup.sum())
        reps = keep.astype(np.int64) + (dup & keep)
        return np.repeat(arr, reps).tobytes()

    def write(self, data) -> int:
        data = bytes(data)
        cut = len(data)
        if self.spec.reset_every:
            for ev in self._scan.feed(data):
                if isinstance(ev, fr.Frame) and ev.type == m.INFER and ev.seq != self._last_seq:
                    self._last_seq = ev.seq  # samples count, retries of the same sample do not
                    self._infers += 1
                    if self._infers % self.spec.reset_every == 0:
                        cut = len(data) // 2
        self.inner.write(self._mangle(data[:cut]))
        if cut < len(data):
            self.injected["resets"] += 1
            self.inner.reset()  # the device reboots while the sample is on the wire
            self.inner.write(self._mangle(data[cut:]))
        if self.spec.garbage and self.rng.random() < self.spec.garbage:
            self.injected["garbage"] += 1
            self._rx += b"\r\nboot: garbage " + self.rng.integers(1, 256, 24, dtype=np.uint8).tobytes()
        return len(data)

    @property
    def in_waiting(self) -> int:
        return len(self._rx) + self.inner.in_waiting

    def read(self, size: int = 1) -> bytes:
        if len(self._rx) < size:
            want = max(size - len(self._rx), self.inner.in_waiting)
            self._rx += self._mangle(self.inner.read(max(1, want)))
        out = bytes(self._rx[:size])
        del self._rx[:size]
        return out

    def reset_input_buffer(self) -> None:
        self._rx.clear()
        self.inner.reset_input_buffer()


class ThrottledPort(_Wrapper):
    """Emulates a UART at `baud` (8N1: 10 bits a byte) both ways: bytes take their line time.

    The device-to-host side holds at most `rx_limit` bytes not yet read by the host (by default
    one longest encoded frame and its delimiter); what arrives beyond that is lost and counted in
    `overrun`, as a real UART's receive buffer overruns, instead of growing without bound.
    """

    PIECE = 64

    def __init__(self, port, baud: int, bits_per_byte: int = 10, rx_limit: int | None = None):
        super().__init__(port)
        if baud <= 0:
            raise UsageError(f"--baud must be positive, received {baud}", "For example --baud 115200.")
        self.rate = baud / bits_per_byte
        self.rx_limit = rx_limit if rx_limit is not None else fr.FrameReader(fr.HOST_MAX_FRAME).limit + 1
        self.overrun = 0
        self._tx_free = 0.0
        self._rx_free = 0.0
        self._rx: deque[list] = deque()  # [start time, bytes] on the device-to-host line
        self._rx_bytes = 0
        self._timeout = getattr(port, "timeout", 1.0)
        port.timeout = 0  # polled: the wrapper does the waiting

    @property
    def timeout(self):
        return self._timeout

    @timeout.setter
    def timeout(self, value):
        self._timeout = value

    def write(self, data) -> int:
        data = bytes(data)
        # The pieces of one write follow each other on the line: a late wake-up from sleep must
        # not leave the emulated line idle (on a loaded host that cost ~7% of the line rate).
        self._tx_free = max(time.monotonic(), self._tx_free)
        for i in range(0, len(data), self.PIECE):
            piece = data[i : i + self.PIECE]
            self._tx_free += len(piece) / self.rate
            _sleep_until(self._tx_free)
            self.inner.write(piece)
            self._pull()  # full duplex: a reply starts its line time when the device sends it
        return len(data)

    def _pull(self) -> None:
        n = self.inner.in_waiting
        if n:
            data = self.inner.read(n)  # read all of it even when it cannot be kept: a UART drains the line
            room = self.rx_limit - self._rx_bytes
            if len(data) > room:
                self.overrun += len(data) - room
                data = data[:room]
            if data:
                self._rx_bytes += len(data)
                start = max(time.monotonic(), self._rx_free)
                self._rx_free = start + len(data) / self.rate
                self._rx.append([start, data])

    def _ready(self, now: float) -> int:
        total = 0
        for start, data in self._rx:
            avail = min(len(data), int((now - start) * self.rate))
            total += max(0, avail)
            if avail < len(data):
                break
        return total

    @property
    def in_waiting(self) -> int:
        self._pull()
        return self._ready(time.monotonic())

    def read(self, size: int = 1) -> bytes:
        deadline = time.monotonic() + (self._timeout if self._timeout is not None else 3600)
        while True:
            self._pull()
            now = time.monotonic()
            ready = self._ready(now)
            if ready >= size or now >= deadline:
                return self._take(min(size, ready))
            time.sleep(min(0.001, max(0.0, deadline - now)))

    def _take(self, n: int) -> bytes:
        out = bytearray()
        while n > 0 and self._rx:
            start, data = self._rx[0]
            out += data[:n]
            if n >= len(data):
                self._rx.popleft()
            else:
                self._rx[0] = [start + n / self.rate, data[n:]]
            n -= min(n, len(data))
        self._rx_bytes -= len(out)
        return bytes(out)

    def reset_input_buffer(self) -> None:
        self._rx.clear()
        self._rx_bytes = 0
        self.inner.reset_input_buffer()


def _sleep_until(t: float) -> None:
    delay = t - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def wrap_port(port, *, faults: str | FaultSpec | None = None, baud: int | None = None):
    """The port behind the testing aids: throttled to `baud`, then with `faults` injected."""
    if baud:
        port = ThrottledPort(port, int(baud))
    spec = parse_faults(faults)
    if spec.active:
        port = FaultyPort(port, spec)
    return port
