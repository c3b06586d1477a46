"""A two-node Ray cluster on localhost for the sweep tests: a head and a worker, each `ray start --block`
in its own process group (killed by group id, never `ray stop`, which would stop every Ray on the
machine), with a deadline on the start. Both nodes share the head's temporary folder (one machine).

Imported by name (pytest puts this folder on sys.path); not a conftest.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START_DEADLINE = 120.0  # seconds for both nodes to register (a loaded 2-core box is slow)
STOP_DEADLINE = 20.0
RAY = str(Path(sys.executable).with_name("ray"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """`ray start --head` and one `ray start --address` worker, 1 CPU each."""

    def __init__(self, tmp: Path):
        self.tmp, self.port = tmp, free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}
        # Ray's socket paths must stay under 107 bytes: a short folder of its own, not pytest's tmp_path.
        self.ray_tmp = tempfile.mkdtemp(prefix="tfray-", dir="/tmp")
        self.worker = None
        self.head = self._start(
            "head", ["--head", "--port", str(self.port), "--temp-dir", self.ray_tmp, "--include-dashboard", "false"]
        )
        try:
            self._wait_nodes(1)
            self.worker = self._start("worker", ["--address", self.address])
            self._wait_nodes(2)
        except BaseException:
            self.stop()
            raise

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 - kept open by the child
        cmd = [RAY, "start", *args, "--num-cpus", "1", "--disable-usage-stats", "--block"]
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True)

    def _wait_nodes(self, n: int) -> None:
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            for proc in (self.head, self.worker):
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(f"ray start exited with {proc.returncode}: see {self.tmp}/*.log")
            status = subprocess.run(
                [RAY, "status", "--address", self.address], capture_output=True, text=True, env=self.env, timeout=60
            )
            if status.stdout.count("node_") >= n:
                return
            time.sleep(2)
        raise RuntimeError(f"the Ray cluster did not show {n} nodes within {START_DEADLINE:g} s")

    def kill_worker(self) -> None:
        """SIGKILL the worker node: its raylet and every task process on it, at once."""
        _kill_group(self.worker, signal.SIGKILL)

    def stop(self) -> None:
        """SIGKILL both nodes' process groups (a SIGTERM drains for 30 s first), then reap them."""
        for proc in (self.worker, self.head):
            if proc is not None:
                _kill_group(proc, signal.SIGKILL)
                proc.wait(timeout=STOP_DEADLINE)
        shutil.rmtree(self.ray_tmp, ignore_errors=True)


def _kill_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # start_new_session: the group id is the ray start's pid
    except (ProcessLookupError, PermissionError):
        pass
