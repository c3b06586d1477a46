"""A real MLflow tracking server for the tracking tests: `mlflow server` on a free localhost port,
SQLite backend, artifacts served by the server; started with a deadline, stopped by its process id.

Imported by name (pytest puts this folder on sys.path); not a conftest.py, which would shadow the
root conftest that other tests import as `conftest`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

START_DEADLINE = 240.0  # seconds: the first start migrates the SQLite schema; a loaded CI box is slow
STOP_DEADLINE = 20.0


def require_mlflow() -> None:
    """Skip without mlflow, or fail under CI: the project's set-up installs the tracking extra."""
    try:
        import mlflow  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("mlflow is missing under CI; ./run setup installs tinyflow[tracking]")
        pytest.skip("mlflow is missing (pip install -e .[tracking])")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's own process group (its id is the server's pid), then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, STOP_DEADLINE), (signal.SIGKILL, STOP_DEADLINE)):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """The URL of a running `mlflow server` (skip, or fail under CI, without mlflow)."""
    require_mlflow()
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    cmd += ["--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}", "--artifacts-destination", str(root / "art")]
    log = open(root / "server.log", "wb")
    # its own session: the server's workers are stopped with it, by its process id
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=root, start_new_session=True)
    try:
        deadline = time.monotonic() + START_DEADLINE
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = (root / "server.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"mlflow server did not start within {START_DEADLINE:.0f} s:\n{tail}")
            time.sleep(0.5)
        yield url
    finally:
        _stop(proc)
        log.close()
