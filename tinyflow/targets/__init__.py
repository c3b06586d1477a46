"""Targets: everything that opens a port or process speaking the device protocol.

    port = open_target("sim://tflm", model=model_bytes)     # or /dev/ttyACM0, socket://..., loop://
    client = DeviceClient(port); client.handshake(); client.infer(x)

URLs: a device path (/dev/ttyACM0, COM3) or any pyserial URL (socket://, rfc2217://, loop://,
spy://...), opened by targets/serial_port.py; or `sim://<name>[?board=<id>&...]`, opened by
targets/sim.py through SIMULATORS, where SIM_OPTIONS lists the query keys each simulator takes
and anything else is refused before the simulator starts. Simulated machines live in
targets/machines/; those that run firmware (sim://host, sim://qemu-m4) receive it built:
tinyflow.workflows.device.open_device compiles and builds it, then opens the target here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from tinyflow.errors import UsageError
from tinyflow.targets.serial_port import DEFAULT_BAUD, open_serial
from tinyflow.targets.sim import SIM_OPTIONS, SIMULATORS, open_sim, parse_sim_url, sim_options

__all__ = ["DEFAULT_BAUD", "SIMULATORS", "SIM_OPTIONS", "open_target", "parse_sim_url", "sim_options"]


def open_target(url: str, *, model=None, firmware=None, board=None, timeout: float = 2.0, baud: int = DEFAULT_BAUD):
    """Open `url` and return a pyserial-like port (read/write/timeout/in_waiting/close).

    Args:
        url: device path, pyserial URL, or sim://<name>[?board=...].
        model: the .tflite (bytes or path) sim://tflm runs; ignored by real ports.
        firmware: the built firmware sim://host and sim://qemu-m4 run (tinyflow.build.firmware.Firmware
            or a path); ignored by real ports.
        board: board id for simulated boards (overrides ?board=).
        timeout: read timeout of the port in seconds.
        baud: line rate of real serial ports.
    Raises:
        UsageError for an unknown simulator or option, LinkError for a missing, busy or forbidden port.
    """
    if not url:
        raise UsageError(
            "No target given", "Pass --target sim://tflm, sim://host, sim://qemu-m4 or a port like /dev/ttyACM0."
        )
    if urlsplit(url).scheme == "sim":
        return open_sim(url, model=model, firmware=firmware, board=board, timeout=timeout)
    return open_serial(url, timeout=timeout, baud=baud)
