"""`sim://host`: the real firmware (protocol core + compiled model + host port) run natively.

The firmware arrives built (tinyflow.build.firmware.build_host, driven by
tinyflow.workflows.device.open_device); this module only runs it, as a process on a
pseudo-terminal that the client drives like a board. A device reset is a process restart with
the boot counter + 1. Latencies are host CPU time.

Query options (checked by tinyflow.targets.sim; they change the build, not the run):
`?sanitize=1` (ASan/UBSan build), `?fake=1` (the fake model of firmware/tests/, no model
needed), `?protocol=eembc&benchmark=kws01|ic01|vww01|ad01` (MLPerf Tiny text protocol), `?rx=<bytes>` (receive buffer).
The run's own options: `?sensor=FILE` and its `sensor_*` settings, a played sensor
(tinyflow/targets/played.py) written into a temporary folder the port removes when it closes.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import subprocess
import tempfile
import termios
import time
import tty
from pathlib import Path

from tinyflow.errors import LinkError, UsageError
from tinyflow.targets.port import Port

LATENCY_BASIS = "is host CPU time (sim://host runs the compiled C natively), not board time"
STOP_TIMEOUT = 2.0


class ProcessPort(Port):
    """A pyserial-like port on the master side of a pseudo-terminal whose slave is a process's stdio."""

    instant = False
    latency_basis = LATENCY_BASIS

    def __init__(self, argv: list[str], *, timeout: float = 2.0, boot_count: int = 0, write_timeout: float = 10.0):
        self.argv = [str(a) for a in argv]
        self.timeout = timeout
        self.write_timeout = write_timeout
        self.boot_count = boot_count
        self._proc = None
        self._fd = -1
        self._stderr = None
        self._start()

    # -- life cycle -------------------------------------------------------------------------
    def _start(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # binary frames: no echo, no CR/LF translation, no signals
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(
                [*self.argv, "--boot", str(self.boot_count)],
                stdin=slave,
                stdout=slave,
                stderr=self._stderr,
                close_fds=True,
                start_new_session=True,
            )
        except OSError as exc:
            os.close(master)
            raise LinkError(
                f"Cannot start the host firmware {self.argv[0]}: {exc}",
                "Rebuild it (delete ~/.cache/tinyflow/build) and run again.",
            ) from exc
        finally:
            os.close(slave)
        fcntl.fcntl(master, fcntl.F_SETFL, fcntl.fcntl(master, fcntl.F_GETFL) | os.O_NONBLOCK)
        self._fd = master

    def _stop(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # the firmware reads EOF/EIO and exits
            self._fd = -1
        if self._proc is not None and self._proc.poll() is None:
            try:
                self._proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait(STOP_TIMEOUT)

    def reset(self) -> None:
        """Reboot the device: restart the process with the boot counter + 1."""
        self.check()
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(STOP_TIMEOUT)
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self.boot_count += 1
        self._start()

    def close(self) -> None:
        self._stop()
        folder = getattr(self, "sensor_folder", None)
        if folder is not None:
            folder.cleanup()  # the played sensor file of this run
            self.sensor_folder = None

    @property
    def is_open(self) -> bool:
        return self._fd >= 0

    def __del__(self):
        try:
            self._stop()
        except Exception:
            pass

    # -- diagnostics ------------------------------------------------------------------------
    def stderr_text(self) -> str:
        """What the firmware wrote to stderr (sanitizer reports land here)."""
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def check(self) -> None:
        """Raise LinkError when the firmware crashed or exited with an error."""
        code = self._proc.poll() if self._proc is not None else None
        if code not in (None, 0):
            report = self.stderr_text().strip().splitlines()
            first = next((ln for ln in report if "ERROR" in ln or "runtime error" in ln), report[0] if report else "")
            raise LinkError(
                f"The host firmware exited with code {code}" + (f": {first.strip()}" if first else ""),
                "This is a tinyflow bug: report it with the model and this message.",
            )

    # -- pyserial surface -------------------------------------------------------------------
    @property
    def in_waiting(self) -> int:
        if self._fd < 0:
            return 0
        import array

        buf = array.array("i", [0])
        try:
            fcntl.ioctl(self._fd, termios.FIONREAD, buf, True)
        except OSError:
            return 0
        return buf[0]

    def read(self, size: int = 1) -> bytes:
        self._require_open()
        out = bytearray()
        deadline = time.monotonic() + (self.timeout if self.timeout is not None else 3600)
        while len(out) < size:
            try:
                chunk = os.read(self._fd, size - len(out))
            except BlockingIOError:
                chunk = None
            except OSError:  # EIO: the process closed the slave (exited)
                self.check()
                break
            if chunk:
                out += chunk
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                break
            select.select([self._fd], [], [], min(left, 0.05))
        if not out:
            self.check()
        return bytes(out)

    def write(self, data) -> int:
        self._require_open()
        view = memoryview(bytes(data))
        deadline = time.monotonic() + self.write_timeout
        while view:
            try:
                n = os.write(self._fd, view)
                view = view[n:]
                continue
            except BlockingIOError:
                pass
            except OSError as exc:
                self.check()
                raise LinkError(f"Writing to the host firmware failed: {exc}", "Open the target again.") from exc
            if time.monotonic() > deadline:
                self.check()
                raise LinkError(
                    f"The host firmware did not read its input for {self.write_timeout:g} s",
                    "It may be stuck; open the target again.",
                )
            select.select([], [self._fd], [], 0.05)
        return len(data)

    def reset_input_buffer(self) -> None:
        if self._fd >= 0:
            termios.tcflush(self._fd, termios.TCIFLUSH)

    def _require_open(self) -> None:
        if self._fd < 0:
            raise LinkError("The sim://host port is closed", "Open the target again.")


def open(url_parts=None, *, firmware=None, timeout: float = 2.0, **_ignored) -> ProcessPort:  # noqa: A001
    """Start the built host firmware (a path, or a tinyflow.build.firmware.Firmware) on a pseudo-terminal."""
    if firmware is None:
        raise UsageError(
            "sim://host runs a built firmware, and none was given",
            "Open it through tinyflow.workflows.device.open_device, which builds the firmware for the model.",
        )
    from tinyflow.targets.played import prepare_sensor
    from tinyflow.targets.sim import query_params

    folder = tempfile.TemporaryDirectory(prefix="tinyflow-sensor-")
    try:
        sensor = prepare_sensor(query_params(url_parts), folder.name)
        port = ProcessPort([firmware_path(firmware), *sensor], timeout=timeout)
    except BaseException:
        folder.cleanup()
        raise
    port.sensor_folder = folder
    return port


def firmware_path(firmware) -> Path:
    """The executable of a built firmware given as a path or as an object with `.path`."""
    return Path(getattr(firmware, "path", firmware))


class PtyDevice:
    """The host firmware on the master side of a pseudo-terminal; other programs open `path`.

    This is how the MLPerf Tiny / EEMBC runner (or a serial terminal) talks to a simulated DUT:
    it may open and close `path` as often as it likes; the firmware keeps running and its state.
    """

    def __init__(self, exe: Path, boot_count: int = 0):
        master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        # We keep the slave open: without it the master reads EIO whenever the runner closes
        # the port. Nothing here reads it, so replies wait for whoever opens the path next.
        self._keep = slave
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [str(exe), "--boot", str(boot_count)],
            stdin=master,
            stdout=master,
            stderr=self._stderr,
            close_fds=True,
            start_new_session=True,
        )
        os.close(master)

    def close(self) -> None:
        if self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(STOP_TIMEOUT)
        if self._keep >= 0:
            os.close(self._keep)
            self._keep = -1

    def wait(self, timeout: float | None = None) -> int | None:
        """Block until the firmware exits (None: no deadline; the server runs until stopped)."""
        try:
            return self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stderr_text(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
