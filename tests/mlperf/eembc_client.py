"""An independent client of the EEMBC DUT protocol, written for the tests from how the public
MLPerf Tiny runner (mlcommons/tiny benchmark/runner: serial_device.py, device_under_test.py,
script.py) talks to a DUT. It shares no code with tinyflow.mlperf, so a misreading there cannot
hide in both.

As the runner does: a reader thread splits what arrives into lines at '\\n' (dropping '\\r' and
'\\0'); a command is written with '%' and its reply is every line up to one containing
"m-ready"; identification matches `^m-(name)-dut-\\[...\\]$` and `^m-(model|profile)-\\[...\\]$`;
`db load N` is followed by `db <hex>` commands of at most 31 bytes; `infer N W` is parsed for
`m-results-[...]` and the two `m-lap-us-<n>` lines (start, end).
"""

from __future__ import annotations

import queue
import re
import threading

import serial

RUNNER_CHUNK = 31


class RunnerLikeClient:
    """A DUT on `port_path` (a pty or device path), driven the way the runner drives it."""

    def __init__(self, port_path: str, *, timeout: float = 5.0, baud: int = 115200):
        self._port = serial.Serial(port_path, baud, timeout=0.1)
        self._lines: queue.Queue[str] = queue.Queue()
        self._running = True
        self.timeout = timeout
        self._thread = threading.Thread(target=self._read_loop, daemon=True)
        self._thread.start()

    def _read_loop(self) -> None:
        msg = ""
        while self._running:
            try:
                raw = self._port.read(1)
            except serial.SerialException:
                return
            char = raw.decode(errors="replace")
            if char == "\n":
                self._lines.put(msg)
                msg = ""
            elif char and char not in "\r\0":
                msg += char

    def close(self) -> None:
        self._running = False
        self._thread.join(2)
        self._port.close()

    def send_command(self, command: str, timeout: float | None = None) -> list[str]:
        self._port.write(f"{command}%".encode())
        lines = []
        while True:
            try:
                line = self._lines.get(timeout=self.timeout if timeout is None else timeout)
            except queue.Empty:
                raise AssertionError(f"no response to {command!r} (got {lines})") from None
            if line:
                lines.append(line)
            if "m-ready" in line:
                return lines

    # -- identification (device_under_test.py) --------------------------------------------
    def get_name(self) -> str | None:
        for line in self.send_command("name"):
            m = re.match(r"^m-(name)-dut-\[([^]]+)]$", line)
            if m:
                return m.group(2)
        return None

    def get_profile(self) -> dict[str, str]:
        found = {}
        for line in self.send_command("profile"):
            m = re.match(r"^m-(model|profile)-\[([^]]+)]$", line)
            if m:
                found[m.group(1)] = m.group(2)
        return found

    # -- data and inference ---------------------------------------------------------------
    def load(self, data: bytes) -> list[str]:
        self.send_command(f"db load {len(data)}")
        result = []
        for i in range(0, len(data), RUNNER_CHUNK):
            result = self.send_command("db " + "".join(f"{d:02x}" for d in data[i : i + RUNNER_CHUNK]))
        return result

    def infer(self, number: int, warmups: int, timeout: float = 30.0) -> dict:
        """The runner's _gather_infer_results: results, start_time, end_time, elapsed_time."""
        result: dict = {}
        for line in self.send_command(f"infer {number} {warmups}", timeout=timeout):
            m = re.match(r"^m-results-\[([^]]+)\]$", line)
            if m:
                result["results"] = [float(x) for x in m.group(1).split(",") if x.strip()]
                continue
            m = re.match(r"^m-lap-us-([0-9]+)$", line)
            if m:
                result["end_time" if "start_time" in result else "start_time"] = int(m.group(1))
        if "start_time" in result and "end_time" in result:
            result["elapsed_time"] = result["end_time"] - result["start_time"]
        return result

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
