"""`tinyflow board serve` has no authentication: it listens on loopback unless told otherwise, and
says loudly when it is reachable from other machines."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time

import pytest
from test_board_serve import stop_server

from tinyflow.cli.board import serve
from tinyflow.testing.board_server import is_loopback, parse_listen

START_TIMEOUT = 30.0


def test_the_default_address_is_loopback():
    listen = next(p for p in serve.params if p.name == "listen")
    host, _ = parse_listen(listen.default)
    assert not listen.required and is_loopback(host)


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("lab-pc", False),
    ],
)
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def _serve(listen: str, tmp_path) -> tuple[bytes, str]:
    """Run the server on loop:// for as long as it takes to print its address; (stdout line, stderr)."""
    cmd = [sys.executable, "-m", "tinyflow.cli.main", "-q", "board", "serve", "loop://", "--listen", listen]
    err = tmp_path / "stderr"
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(err, "wb"))
    line, deadline = b"", time.monotonic() + START_TIMEOUT
    try:
        while not line.endswith(b"\n") and time.monotonic() < deadline and proc.poll() is None:
            if select.select([proc.stdout], [], [], 0.5)[0]:
                line += os.read(proc.stdout.fileno(), 1024)
    finally:
        code = stop_server(proc)
    assert code == 0, err.read_text()
    return line, err.read_text()


def test_listening_on_every_interface_warns(tmp_path):
    line, err = _serve("0.0.0.0:0", tmp_path)
    assert line.startswith(b"Serving loop:// on rfc2217://0.0.0.0:"), (line, err)
    warning = err.strip().splitlines()[0]
    assert warning.startswith("Warning: rfc2217://0.0.0.0:") and "no authentication" in warning, err


def test_listening_on_loopback_does_not_warn(tmp_path):
    line, err = _serve("127.0.0.1:0", tmp_path)
    assert line.startswith(b"Serving loop:// on rfc2217://127.0.0.1:"), (line, err)
    assert "Warning" not in err
