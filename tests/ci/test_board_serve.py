"""`tinyflow board serve`: a simulated board behind the RFC 2217 server gives what the direct run gives."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from conftest import corpus_path, require_tool
from tinyflow.cli.main import cli
from tinyflow.errors import UsageError
from tinyflow.testing.board_server import parse_listen

HELLO = "tflm/hello_world_int8.tflite"
START_TIMEOUT = 120.0  # the first start builds the host firmware (cached afterwards)


@pytest.fixture
def served(tmp_path):
    """`tinyflow board serve sim://host` in a child process: yields its rfc2217:// URL, stops it by pid."""
    require_tool("cc")
    cmd = [sys.executable, "-m", "tinyflow.cli.main", "-q", "board", "serve", "sim://host"]
    cmd += ["--model", str(corpus_path(HELLO)), "--listen", "127.0.0.1:0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(tmp_path / "stderr", "wb"))
    try:
        yield _url(proc, tmp_path)
    finally:
        assert stop_server(proc) == 0, (tmp_path / "stderr").read_text()


def stop_server(proc: subprocess.Popen) -> int:
    """SIGTERM a `board serve` process and return its exit code (killed, and the wait's timeout
    raised, when it does not stop within 10 s)."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        raise


def _url(proc, tmp_path) -> str:
    """The address from the server's first line, read with a deadline."""
    deadline, line = time.monotonic() + START_TIMEOUT, b""
    while not line.endswith(b"\n") and time.monotonic() < deadline and proc.poll() is None:
        if select.select([proc.stdout], [], [], 0.5)[0]:
            line += os.read(proc.stdout.fileno(), 1024)
    found = re.search(rb"rfc2217://127\.0\.0\.1:\d+", line)
    assert found, f"no address in {line!r}; stderr: {(tmp_path / 'stderr').read_text()}"
    return found.group().decode()


def _outputs(report):
    return [[o.tolist() for o in sample] for sample in report.outputs]


@pytest.mark.firmware
@pytest.mark.parametrize("faults", [None, "ber=3e-3,dup=1e-3,seed=3"])
def test_eval_over_rfc2217_matches_the_direct_run(served, faults):
    import tinyflow

    model = corpus_path(HELLO)
    direct = tinyflow.evaluate(tinyflow.EvalConfig(model, dataset="random:20", target="sim://host"))
    remote = tinyflow.evaluate(
        tinyflow.EvalConfig(model, dataset="random:20", target=served, faults=faults, timeout=1.0)
    )
    assert remote.samples == direct.samples == 20
    assert _outputs(remote) == _outputs(direct)
    assert remote.agreement["exact_match_rate"] == 1.0
    if faults:  # the faults really hit the link and the protocol recovered
        assert sum(remote.link["injected"].values()) > 0, remote.link


@pytest.mark.firmware
def test_eval_cli_with_injected_faults_over_rfc2217(served):
    result = CliRunner().invoke(
        cli,
        ["-q", "eval", str(corpus_path(HELLO)), "-t", served, "-d", "random:20"]
        + ["--inject-faults", "ber=1e-3,drop=1e-3", "--timeout", "1", "--min-agreement", "1"],
    )
    assert result.exit_code == 0, result.output
    assert "random:20" in result.output


@pytest.mark.parametrize(
    "text, expected",
    [("127.0.0.1:2217", ("127.0.0.1", 2217)), ("[::1]:0", ("::1", 0)), ("0.0.0.0:80", ("0.0.0.0", 80))],
)
def test_parse_listen(text, expected):
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["2217", ":2217", "host:", "host:70000", "host:port"])
def test_parse_listen_refuses_malformed(text):
    with pytest.raises(UsageError, match="HOST:PORT"):
        parse_listen(text)


def test_serve_refuses_a_bad_listen_address_in_one_line():
    result = CliRunner().invoke(cli, ["board", "serve", "sim://tflm", "--listen", "nowhere"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: --listen must be HOST:PORT, got 'nowhere'. Pass e.g. --listen 127.0.0.1:2217 (port 0: any)."
    ]


def test_serve_reports_a_busy_address_in_one_line():
    import socket

    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["board", "serve", "loop://", "--listen", f"127.0.0.1:{port}"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: Cannot listen on 127.0.0.1:{port}"), lines


@pytest.mark.firmware
def test_profile_over_rfc2217_sees_the_served_model(served):
    import tinyflow

    model = corpus_path(HELLO)
    direct = tinyflow.profile(tinyflow.ProfileConfig(model, target="sim://host"))
    remote = tinyflow.profile(tinyflow.ProfileConfig(model, target=served))
    assert [op.name for op in remote.ops] == [op.name for op in direct.ops] and remote.ops
    assert remote.arena_bytes == direct.arena_bytes


def test_a_pyserial_port_is_relayed_both_ways_and_the_server_stops_on_request():
    """loop:// (pyserial's own port, as a device path would be) behind the server echoes what a client sends."""
    import threading

    import serial

    from tinyflow.testing.board_server import BoardServer, open_served_port

    server = BoardServer(open_served_port("loop://"), ("127.0.0.1", 0))
    stop = threading.Event()
    thread = threading.Thread(target=server.serve, args=(stop,), daemon=True)
    thread.start()
    host, port = server.address
    try:
        client = serial.serial_for_url(f"rfc2217://{host}:{port}", timeout=2)
        try:
            client.baudrate = 9600  # negotiated through PortManager onto the served port
            client.write(b"ping\xff\x00pong")  # 0xff is telnet's IAC: escaped both ways
            assert client.read(10) == b"ping\xff\x00pong"
        finally:
            client.close()
    finally:
        stop.set()
        thread.join(5)
        server.close()
    assert not thread.is_alive()
    assert server.port.baudrate == 9600
