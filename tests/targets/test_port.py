"""The port contract: every port derives from Port; targets only open, and run a firmware given built."""

from __future__ import annotations

import pytest

from conftest import require_tool
from tinyflow.errors import UsageError
from tinyflow.targets import open_target, parse_sim_url
from tinyflow.targets.device import SimPort
from tinyflow.targets.faults import FaultyPort, ThrottledPort
from tinyflow.targets.machines import host, qemu, qemu_m4
from tinyflow.targets.port import Port


@pytest.mark.parametrize("cls", [SimPort, host.ProcessPort, qemu.QemuPort, qemu_m4.QemuPort, FaultyPort, ThrottledPort])
def test_every_port_derives_from_the_base_class(cls):
    assert issubclass(cls, Port)
    for name in ("read", "write", "in_waiting", "reset_input_buffer", "close", "__enter__", "__exit__"):
        assert hasattr(cls, name), name


def test_a_port_without_read_and_write_cannot_be_made():
    class Half(Port):
        def read(self, size=1):
            return b""

    with pytest.raises(TypeError, match="write"):
        Half()

    class Echo(Half):
        closed = False

        def write(self, data):
            return len(data)

        def close(self):
            self.closed = True

    with Echo() as port:
        assert port.write(b"abc") == 3 and port.in_waiting == 0 and port.timeout == 2.0
    assert port.closed


@pytest.mark.parametrize("url", ["sim://host", "sim://host?fake=1", "sim://qemu-m4"])
def test_machines_that_run_firmware_refuse_to_open_without_one(url):
    with pytest.raises(UsageError, match="runs a built firmware.*open_device"):
        open_target(url)


@pytest.mark.parametrize(
    "url, message",
    [
        ("sim://host?rx=10", r"sim://host rx=10 must be a byte count between 64 and 65535"),
        ("sim://host?rx=65536", r"rx=65536 must be a byte count"),
        ("sim://host?rx=1e3", r"rx=1e3 must be a byte count"),
    ],
)
def test_rx_is_checked_with_the_other_options(url, message):
    with pytest.raises(UsageError, match=message):
        parse_sim_url(url)


def test_parse_sim_url_gives_the_name_and_checked_options():
    assert parse_sim_url("sim://host?rx=1024&sanitize=1") == ("host", {"rx": "1024", "sanitize": "1"})
    assert parse_sim_url("sim://qemu-m4") == ("qemu-m4", {})


@pytest.mark.firmware
def test_sim_host_runs_a_firmware_given_as_a_path():
    from tinyflow.build.firmware import FirmwareOptions, build_host
    from tinyflow.targets.client import DeviceClient

    require_tool("cc")
    fw = build_host(None, FirmwareOptions(fake=True), board_id="nano33ble")
    with open_target("sim://host", firmware=fw.path, timeout=2.0) as port:
        info = DeviceClient(port).handshake()
    assert info.board_id == "host-nano33ble" and info.runtime == "fake"
