"""`sim://host`: the real firmware (protocol core + compiled model + host port) run natively.

The model is compiled to C (tinyflow.compile), built with the system C compiler (cached by
content hash) and started as a process on a pseudo-terminal; the client drives it like a board.
A device reset is a process restart with the boot counter + 1. Latencies are host CPU time.

Query options: `?sanitize=1` (ASan/UBSan build), `?fake=1` (the fake model of
firmware/tests/, no model needed), `?eembc=1` (MLPerf Tiny text protocol), `?rx=<bytes>`
(receive buffer, TINYFLOW_RX_BYTES).
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
from urllib.parse import parse_qs

from tinyflow.errors import LinkError, UsageError
from tinyflow.targets.device import model_bytes

LATENCY_BASIS = "is host CPU time (sim://host runs the compiled C natively), not board time"
STOP_TIMEOUT = 2.0


class ProcessPort:
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

    @property
    def is_open(self) -> bool:
        return self._fd >= 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

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

    def flush(self) -> None:
        pass

    def reset_input_buffer(self) -> None:
        if self._fd >= 0:
            termios.tcflush(self._fd, termios.TCIFLUSH)

    def reset_output_buffer(self) -> None:
        pass

    def _require_open(self) -> None:
        if self._fd < 0:
            raise LinkError("The sim://host port is closed", "Open the target again.")


def query_params(url_parts) -> dict[str, str]:
    if url_parts is None:
        return {}
    query = url_parts if isinstance(url_parts, str) else getattr(url_parts, "query", "")
    return {k: v[-1] for k, v in parse_qs(query.lstrip("?")).items()}


def open(
    url_parts=None, *, model=None, board=None, timeout: float = 2.0, sanitize: bool | None = None, **_ignored
) -> ProcessPort:  # noqa: A001
    """Compile `model`, build the host firmware around it, and start it on a pseudo-terminal."""
    from tinyflow.build.host import build_host_firmware

    q = query_params(url_parts)
    flag = lambda key: q.get(key, "0").lower() in ("1", "true", "yes")  # noqa: E731
    sanitize = flag("sanitize") if sanitize is None else sanitize
    defines = {}
    if "rx" in q:
        if not q["rx"].isdigit() or not 64 <= int(q["rx"]) <= 65535:
            raise UsageError(
                f"sim://host rx={q['rx']} must be a byte count between 64 and 65535", "For example ?rx=1024."
            )
        defines["TINYFLOW_RX_BYTES"] = int(q["rx"])
    if board:
        defines["TINYFLOW_BOARD_ID"] = f'"host-{getattr(board, "id", board)}"'
    if flag("fake"):
        exe = build_host_firmware(sanitize=sanitize, eembc=flag("eembc"), defines=defines)
    else:
        if model is None:
            raise UsageError(
                "sim://host needs a model to build its firmware", "Pass the model file, or use sim://host?fake=1."
            )
        from tinyflow.compile import compile_model

        # EEMBC runs one loaded input many times: the plan must keep the input buffer intact.
        compiled = compile_model(model_bytes(model), name="model", preserve_inputs=flag("eembc"))
        exe = build_host_firmware(compiled, sanitize=sanitize, eembc=flag("eembc"), defines=defines)
    return ProcessPort([exe], timeout=timeout)


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

    def stderr_text(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def serve(model=None, *, eembc: bool = True, fake: bool = False, sanitize: bool = False) -> PtyDevice:
    """Start the host firmware for `model` on a pseudo-terminal; returns it (see .path)."""
    from tinyflow.build.host import build_host_firmware

    if fake or model is None:
        exe = build_host_firmware(eembc=eembc, sanitize=sanitize)
    else:
        from tinyflow.compile import compile_model

        exe = build_host_firmware(compile_model(model_bytes(model), name="model"), eembc=eembc, sanitize=sanitize)
    return PtyDevice(exe)


def main(argv=None) -> None:
    """`python -m tinyflow.targets.sim_host [--tinyflow] [MODEL]`: serve a simulated DUT on a pty."""
    import argparse

    ap = argparse.ArgumentParser(
        description="Serve the host firmware on a pseudo-terminal for the "
        "MLPerf Tiny runner (EEMBC protocol) or any serial program."
    )
    ap.add_argument("model", nargs="?", help=".tflite file (default: the fake model)")
    ap.add_argument("--tinyflow", action="store_true", help="speak the tinyflow protocol instead of EEMBC")
    args = ap.parse_args(argv)
    with serve(args.model, eembc=not args.tinyflow) as dev:
        print(f"Simulated DUT on {dev.path} (Ctrl-C to stop)", flush=True)
        try:
            dev._proc.wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
