"""`tinyflow mlperf serve`: a simulated DUT on a pseudo-terminal for the official runner.

sim://host: the EEMBC host firmware runs on the pty itself (tinyflow.workflows.serve).
sim://qemu-m4: the emulator's UART is a TCP socket, so a bridge thread copies bytes between it
and a pty. The ARM build prints the reference DUT's boot lines when QEMU starts it; the bridge
reads them before it hands out the path, so the runner's first reply is its own.
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty

from tinyflow.errors import LinkError, UsageError
from tinyflow.mlperf.benchmarks import benchmark, target_url
from tinyflow.mlperf.dut import EembcDut, check_model

BOOT_END = b"m-init-done\r\nm-ready\r\n"
BOOT_TIMEOUT = 60.0  # the firmware boots in milliseconds; QEMU start-up dominates
POLL_SECONDS = 0.02
MIN_POLL_SECONDS = 0.0005
WRITE_TIMEOUT = 10.0  # a reader that stops reading the pty for this long loses the rest of a reply
CHUNK = 4096


class PtyBridge:
    """Copies bytes both ways between a pyserial-like port and a pseudo-terminal (`path`)."""

    def __init__(self, port):
        self.port = port
        master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        # The slave stays open here too: without it the master reads EIO whenever the runner
        # closes the port between its steps.
        self._master, self._keep = master, slave
        self._stop = threading.Event()
        self.error: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="mlperf-pty-bridge", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # The port is polled without blocking (a socket's in_waiting says 1 for "some"), the pty
        # with a wait that grows while both sides are quiet: replies go out within a millisecond
        # of arriving, and an idle bridge wakes 50 times a second.
        self.port.timeout = 0
        wait = MIN_POLL_SECONDS
        try:
            while not self._stop.is_set():
                readable, _, _ = select.select([self._master], [], [], wait)
                moved = False
                if readable:
                    self.port.write(os.read(self._master, CHUNK))
                    moved = True
                data = self.port.read(CHUNK)
                if data:
                    self._to_pty(data)
                    moved = True
                wait = MIN_POLL_SECONDS if moved else min(wait * 2, POLL_SECONDS)
        except (OSError, LinkError) as exc:
            self.error = exc

    def _to_pty(self, data: bytes) -> None:
        deadline = time.monotonic() + WRITE_TIMEOUT
        view = memoryview(data)
        while view and time.monotonic() < deadline and not self._stop.is_set():
            _, writable, _ = select.select([], [self._master], [], POLL_SECONDS)
            if writable:
                view = view[os.write(self._master, view) :]

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait up to `timeout` s: None while serving, 1 once the bridge stopped (the emulator
        went away), like PtyDevice.wait's exit code."""
        self._thread.join(timeout)
        return None if self._thread.is_alive() else 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5.0)
        for fd in (self._master, self._keep):
            os.close(fd)
        self.port.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_boot_lines(port, timeout: float = BOOT_TIMEOUT) -> bytes:
    """Read the reference boot lines (up to m-init-done, m-ready); returns what was read.

    Raises:
        LinkError: they did not arrive within `timeout` seconds.
    """
    seen = b""
    deadline = time.monotonic() + timeout
    while BOOT_END not in seen:
        if time.monotonic() > deadline:
            raise LinkError(
                f"The DUT did not finish booting within {timeout:g} s (read {seen[-80:]!r})",
                "Check that it is an EEMBC build (?protocol=eembc); run again.",
            )
        seen += port.read(max(1, port.in_waiting or 1))
    return seen


def serve_dut(model: bytes, benchmark_id: str, target: str = "sim://host", *, board: str | None = None):
    """Start a simulated DUT for the runner; returns an object with `.path`, `.wait()`, `.close()`.

    Before the path is handed out, the DUT is asked which model it was built from.

    Raises:
        UsageError: a target that is neither sim://host nor sim://qemu-m4, or an unknown benchmark.
        ModelError: the DUT runs another model than `model`.
    """
    bench = benchmark(benchmark_id)
    url = target_url(target, bench)
    if target.startswith("sim://host"):
        from tinyflow.targets.serial_port import open_serial
        from tinyflow.workflows.serve import serve

        dev = serve(model, url)
        try:
            with open_serial(dev.path, timeout=0.5) as port:
                check_model(EembcDut(port), model)
        except BaseException:
            dev.close()
            raise
        return dev
    if target.startswith("sim://qemu-m4"):
        from tinyflow.workflows.device import open_device

        port = open_device(url, model=model, board=board, timeout=0.5)
        try:
            read_boot_lines(port)
            check_model(EembcDut(port), model)
        except BaseException:
            port.close()
            raise
        return PtyBridge(port)
    raise UsageError(
        f"Only simulated boards can be served on a pseudo-terminal, not {target!r}",
        "Use sim://host or sim://qemu-m4; a real board is given to the runner directly.",
    )
