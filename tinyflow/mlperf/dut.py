"""The host side of the MLPerf Tiny / EEMBC DUT text protocol, over any tinyflow port.

Commands end with '%'; the device answers lines ending "\\r\\n" and closes every reply with
"m-ready" (docs/protocol.md section 5). Replies are matched to commands by content, not only by
position: before the first command the client resynchronises (a reference DUT prints boot lines,
which may arrive after the host has opened the port), so a late boot line never shifts a reply.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field

from tinyflow.errors import LinkError, ModelError

READY = "m-ready"
# Reply lines longer than this are not believed (a `results` line of a large output is ~8 B/value).
MAX_LINE_BYTES = 1 << 20
# Bytes per `db` command, as the runner sends them without a power board (31 B = 62 hex digits).
DB_CHUNK_BYTES = 31
BOOT_LINES = ("m-timestamp-mode-", "m-init-done")

_LAP = re.compile(r"^m-lap-us-(\d+)$")
_RESULTS = re.compile(r"^m-results-\[([^\]]*)\]$")


@dataclass
class InferReply:
    """What `infer N W` reported: the two timestamps (device microseconds) and the results."""

    iterations: int
    warmups: int
    start_us: int
    end_us: int
    results: list[float] = field(default_factory=list)

    @property
    def elapsed_us(self) -> int:
        return self.end_us - self.start_us


class EembcDut:
    """An EEMBC DUT on a pyserial-like port (the port stays the caller's to close).

    Args:
        port: anything with read/write/timeout (tinyflow.targets ports, pyserial).
        timeout: how long one reply may take to start, in seconds; `infer` adds its own budget.
    """

    def __init__(self, port, *, timeout: float = 10.0):
        self.port = port
        self.timeout = timeout
        self._buf = bytearray()
        self._synced = False

    # -- lines ---------------------------------------------------------------------------
    def _read_line(self, deadline: float) -> str:
        while b"\n" not in self._buf:
            if time.monotonic() > deadline:
                raise LinkError(
                    "The DUT stopped answering (no complete reply line before the deadline)",
                    "Check that it runs the EEMBC build (?protocol=eembc) and the link is up, then run again.",
                )
            if len(self._buf) > MAX_LINE_BYTES:
                raise LinkError(
                    f"The DUT sent a line longer than {MAX_LINE_BYTES} bytes", "Check the link speed and framing."
                )
            waiting = getattr(self.port, "in_waiting", 0) or 1
            self._buf += self.port.read(min(max(waiting, 1), 4096))
        line, _, rest = bytes(self._buf).partition(b"\n")
        self._buf = bytearray(rest)
        return line.replace(b"\r", b"").replace(b"\0", b"").decode("ascii", errors="replace")

    def command(self, text: str, timeout: float | None = None) -> list[str]:
        """Send `text%` and return the reply's lines, up to (without) m-ready."""
        if not self._synced:
            self.sync()
        self.port.write(f"{text}%".encode("ascii"))
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        lines = []
        while True:
            line = self._read_line(deadline)
            if line == READY:
                return lines
            if line.startswith(BOOT_LINES):
                raise LinkError(
                    f"The DUT rebooted while answering {text!r} (it printed {line!r})",
                    "Check its power and reset lines, then run again.",
                )
            if line:
                lines.append(line)

    def sync(self) -> None:
        """Discard whatever came before (boot lines, a half-read reply) and align on one reply:
        `name` gives a reply no boot line looks like, so lines before its name line are dropped."""
        self._synced = True
        deadline = time.monotonic() + self.timeout
        self.port.write(b"name%")
        while not self._read_line(deadline).startswith("m-name-"):
            pass
        while self._read_line(deadline) != READY:
            pass

    # -- the runner's exchanges --------------------------------------------------------------
    def name(self) -> str:
        """The `m-name-dut-[...]` name."""
        return self._field(self.command("name"), r"^m-name-dut-\[([^\]]+)\]$", "name")

    def model(self) -> str:
        """The benchmark id the DUT answers for (`profile` -> `m-model-[...]`): kws01, ic01, ..."""
        return self._field(self.command("profile"), r"^m-model-\[([^\]]+)\]$", "profile")

    def identity(self) -> tuple[str, int] | None:
        """(first 16 hex digits of the model's SHA-256, its size in bytes) the firmware was built
        from (`tinyflow-model`), or None from a DUT that does not know the command (not tinyflow's)."""
        lines = self.command("tinyflow-model")
        if any(ln.startswith("e-[Unknown command") for ln in lines):
            return None
        sha = self._field(lines, r"^m-model-sha256-\[([0-9a-f]{16})\]$", "tinyflow-model")
        return sha, int(self._field(lines, r"^m-model-bytes-\[(\d{1,10})\]$", "tinyflow-model"))

    def load(self, data: bytes, chunk: int = DB_CHUNK_BYTES) -> None:
        """`db load N` then the bytes as hex, `chunk` per command; checks m-load-done."""
        self._expect(self.command(f"db load {len(data)}"), f"m-[Expecting {len(data)} bytes]", "db load")
        lines: list[str] = []
        for i in range(0, len(data), chunk):
            lines = self.command(f"db {data[i : i + chunk].hex()}")
            self._no_error(lines, "db")
        self._expect(lines, "m-load-done", "db")

    def infer(self, iterations: int, warmups: int, timeout: float | None = None) -> InferReply:
        """`infer N W`: the two m-lap-us timestamps and the m-results vector."""
        lines = self.command(f"infer {iterations} {warmups}", timeout=timeout)
        self._no_error(lines, "infer")
        laps = [int(m.group(1)) for m in map(_LAP.match, lines) if m]
        if len(laps) != 2 or "m-infer-done" not in lines:
            raise LinkError(f"Unexpected reply to infer: {lines[:8]}", "Check that the DUT runs the EEMBC build.")
        return InferReply(iterations, warmups, laps[0], laps[1], self._results(lines))

    def results(self) -> list[float]:
        """`results`: the last inference's result vector."""
        return self._results(self.command("results"))

    def timestamp(self) -> int:
        """`timestamp`: the device clock in microseconds."""
        lines = self.command("timestamp")
        return int(self._field(lines, _LAP.pattern, "timestamp"))

    # -- checks ------------------------------------------------------------------------------
    @staticmethod
    def _no_error(lines: list[str], what: str) -> None:
        errors = [ln for ln in lines if ln.startswith("e-[")]
        if errors:
            raise LinkError(f"The DUT refused {what}: {errors[0]}", "See docs/mlperf.md for the command set.")

    def _expect(self, lines: list[str], want: str, what: str) -> None:
        self._no_error(lines, what)
        if want not in lines:
            raise LinkError(f"Unexpected reply to {what}: {lines[:4]} (expected {want!r})", "Run again.")

    def _field(self, lines: list[str], pattern: str, what: str) -> str:
        self._no_error(lines, what)
        for line in lines:
            m = re.match(pattern, line)
            if m:
                return m.group(1)
        raise LinkError(f"Unexpected reply to {what}: {lines[:4]}", "Check that the DUT runs the EEMBC build.")

    def _results(self, lines: list[str]) -> list[float]:
        text = self._field(lines, _RESULTS.pattern, "results")
        try:
            return [float(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise LinkError(f"Unreadable m-results line: {text[:80]!r}", "Check the link for corruption.") from None


def check_model(dut: EembcDut, model: bytes) -> None:
    """Refuse a DUT built from another model than `model`: its scores would belong to that one.

    A DUT that cannot tell (the reference firmware, a third-party port) is taken as it is.

    Raises:
        ModelError: the DUT reports another model's SHA-256 or size.
    """
    told = dut.identity()
    want = (hashlib.sha256(model).hexdigest()[:16], len(model))
    if told is not None and told != want:
        raise ModelError(
            f"The DUT runs another model (sha256 {told[0]}..., {told[1]:,} B), "
            f"not this one ({want[0]}..., {want[1]:,} B)",
            "Build and flash the firmware for this model (or give the model it was built from) and run again.",
        )
