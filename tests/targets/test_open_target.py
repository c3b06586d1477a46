"""open_target: device paths and pyserial URLs, sim:// registry, one-line errors."""

from __future__ import annotations

import pytest

from tinyflow.errors import LinkError, UsageError
from tinyflow.targets import SIMULATORS, open_target


def test_pyserial_urls_open():
    port = open_target("loop://", timeout=0.1)
    try:
        port.write(b"abc")
        assert port.read(3) == b"abc"
    finally:
        port.close()


def test_missing_port_is_a_link_error_with_a_hint():
    with pytest.raises(LinkError, match="does not exist") as exc:
        open_target("/dev/ttyTINYFLOW_NOPE")
    assert "ttyACM" in exc.value.hint


def test_refused_socket_is_a_link_error():
    with pytest.raises(LinkError, match="socket://127.0.0.1:1"):
        open_target("socket://127.0.0.1:1", timeout=0.5)


def test_unknown_simulator_lists_the_known_ones():
    with pytest.raises(UsageError, match="sim://nope") as exc:
        open_target("sim://nope")
    assert all(f"sim://{n}" in exc.value.hint for n in SIMULATORS)


def test_permission_denied_hints_at_dialout(tmp_path):
    import os

    if os.geteuid() == 0:
        pytest.skip("root opens any device")
    dev = tmp_path / "ttyFAKE"
    dev.write_text("")
    dev.chmod(0)
    with pytest.raises(LinkError, match="Permission denied") as exc:
        open_target(str(dev))
    assert "dialout" in exc.value.hint


def test_device_paths_are_opened_exclusively():
    import os

    master, slave = os.openpty()
    name = os.ttyname(slave)
    first = open_target(name, timeout=0.1)
    try:
        with pytest.raises(LinkError, match="is busy") as exc:
            open_target(name, timeout=0.1)
        assert "serial monitor" in exc.value.hint
        os.write(master, b"ping")
        assert first.read(4) == b"ping"
    finally:
        first.close()
        os.close(master)
        os.close(slave)


@pytest.mark.parametrize(
    "url",
    [
        "socket://",
        "socket://:5555",
        "socket://localhost",
        "rfc2217://host:0",
        "socket://host:99999",
        "socket://host:abc",
    ],
)
def test_network_urls_without_host_and_port_are_a_usage_error(url):
    from tinyflow.errors import UsageError
    from tinyflow.targets import open_target

    with pytest.raises(UsageError, match="names no host and port"):
        open_target(url)


@pytest.mark.parametrize("name", ["tflm", "host", "qemu-m4"])
def test_simulated_boards_read_the_model_file_like_every_verb(name, tmp_path):
    """A model path that is a FIFO, a directory or /dev/zero is refused before anything is read
    (an unbounded read of /dev/zero would never end)."""
    from tinyflow.errors import ModelError
    from tinyflow.workflows.device import open_device

    for path in (tmp_path, "/dev/zero"):
        with pytest.raises(ModelError, match="not a regular file"):
            open_device(f"sim://{name}", model=path)
