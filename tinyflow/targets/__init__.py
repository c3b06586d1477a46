"""Targets: everything that opens a port or process speaking the device protocol.

    port = open_target("sim://host", model=model_bytes)     # or /dev/ttyACM0, socket://..., loop://
    client = DeviceClient(port); client.handshake(); client.infer(x)

URLs: a device path (/dev/ttyACM0, COM3), any pyserial URL (socket://, rfc2217://, loop://,
spy://...), or `sim://<name>[?board=<id>&...]` resolved through SIMULATORS; SIM_OPTIONS lists the
query keys each simulator takes, and anything else is refused before the simulator starts.
"""

from __future__ import annotations

import errno
import importlib
from urllib.parse import parse_qsl, urlsplit

from tinyflow.errors import LinkError, UsageError

SIMULATORS = {
    "tflm": "tinyflow.targets.sim_tflm",
    "host": "tinyflow.targets.sim_host",
    "qemu-m4": "tinyflow.targets.sim_qemu",
}
DEFAULT_BAUD = 115200
_FLAG = ("0", "1", "true", "false", "yes", "no")
_BOARD = "board id"
# Query keys per simulator -> the values they take (_BOARD: an id from boards/*.toml; None: the
# simulator checks the value itself, e.g. sim://host's rx range).
SIM_OPTIONS = {
    "tflm": {"board": _BOARD},
    "host": {"board": _BOARD, "sanitize": _FLAG, "fake": _FLAG, "eembc": _FLAG, "rx": None},
    "qemu-m4": {"board": _BOARD, "kernels": ("dsp", "portable")},
}


def open_target(url: str, *, model=None, board=None, timeout: float = 2.0, baud: int = DEFAULT_BAUD):
    """Open `url` and return a pyserial-like port (read/write/timeout/in_waiting/close).

    Args:
        url: device path, pyserial URL, or sim://<name>[?board=...].
        model: the .tflite (bytes or path) a simulated board runs; ignored by real ports.
        board: board id for simulated boards (overrides ?board=).
        timeout: read timeout of the port in seconds.
        baud: line rate of real serial ports.
    Raises:
        UsageError for an unknown simulator, LinkError for a missing, busy or forbidden port.
    """
    if not url:
        raise UsageError(
            "No target given", "Pass --target sim://tflm, sim://host, sim://qemu-m4 or a port like /dev/ttyACM0."
        )
    parts = urlsplit(url)
    if parts.scheme == "sim":
        return _open_sim(parts, url, model=model, board=board, timeout=timeout)
    return _open_serial(url, timeout=timeout, baud=baud)


def _open_sim(parts, url: str, **kwargs):
    name = parts.netloc or parts.path.lstrip("/")
    module = SIMULATORS.get(name)
    if module is None or (parts.netloc and parts.path not in ("", "/")) or parts.fragment:
        raise UsageError(
            f"Unknown simulated target {url!r}",
            f"Use one of {', '.join('sim://' + n for n in SIMULATORS)}, then ?key=value options.",
        )
    params = sim_options(name, parts.query, url)
    if kwargs.get("board") is None and "board" in params:
        kwargs["board"] = params["board"]  # every simulator honours ?board=, not only some
    return importlib.import_module(module).open(parts, **kwargs)


def sim_options(name: str, query: str, url: str) -> dict[str, str]:
    """The query of a sim://<name> URL as a dict, checked against SIM_OPTIONS[name].

    Raises:
        UsageError: an unknown key (listing the valid ones), a key given twice, an unknown board
            (listing the boards), or a value outside the key's choices.
    """
    valid = SIM_OPTIONS[name]
    params: dict[str, str] = {}
    # keep_blank_values: `?bord=` must be refused too, not dropped as empty.
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key not in valid:
            raise UsageError(
                f"sim://{name} does not take the option {key!r} (in {url})", f"Valid: {', '.join(sorted(valid))}."
            )
        if key in params:
            raise UsageError(f"{url} gives {key!r} twice", "Give each option once.")
        choices = valid[key]
        if choices == _BOARD:
            _check_board(value, url)
        elif choices is not None and value.lower() not in choices:
            raise UsageError(
                f"{url}: {key}={value} is not one of {', '.join(choices)}",
                f"For example sim://{name}?{key}={choices[1]}.",
            )
        params[key] = value
    return params


def _check_board(value: str, url: str) -> None:
    from tinyflow.boards import list_boards

    ids = [b.id for b in list_boards()]
    if value not in ids:
        raise UsageError(f"Unknown board {value!r} in {url}", f"Use one of: {', '.join(ids)} (tinyflow boards list).")


def _open_serial(url: str, *, timeout: float, baud: int):
    import serial

    _check_network_url(url)
    # A device path is locked for exclusive use: a second program on the same board is refused
    # with a clear message instead of both silently stealing each other's bytes.
    extra = {} if "://" in url else {"exclusive": True}
    try:
        return serial.serial_for_url(url, baudrate=baud, timeout=timeout, write_timeout=max(timeout, 5.0), **extra)
    except serial.SerialException as exc:
        raise _link_error(url, exc) from exc
    except (OSError, ValueError) as exc:
        raise _link_error(url, exc) from exc


def _check_network_url(url: str) -> None:
    """socket:// and rfc2217:// need host:port; pyserial's own errors for a missing one are
    Python TypeErrors ("'<=' not supported between int and NoneType")."""
    parts = urlsplit(url)
    if parts.scheme not in ("socket", "rfc2217"):
        return
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None or port == 0:
        raise UsageError(
            f"{url!r} names no host and port",
            f"Use {parts.scheme}://HOST:PORT with a port from 1 to 65535, e.g. {parts.scheme}://127.0.0.1:5555.",
        )


def _link_error(url: str, exc: Exception) -> LinkError:
    """One line saying what went wrong with the port and what to do."""
    err = getattr(exc, "errno", None)
    text = str(exc)
    if err == errno.ENOENT or "No such file" in text or "could not open port" in text and "FileNotFound" in text:
        return LinkError(
            f"Port {url} does not exist", "Plug the board in and check the port name (ls /dev/ttyACM* /dev/ttyUSB*)."
        )
    if err in (errno.EACCES, errno.EPERM) or "Permission denied" in text:
        return LinkError(
            f"Permission denied opening {url}",
            "Add yourself to the dialout group (sudo usermod -aG dialout $USER), then log in again.",
        )
    if err == errno.EBUSY or "busy" in text.lower() or "exclusively lock" in text:
        return LinkError(
            f"Port {url} is busy (another program has it open)",
            "Close the serial monitor or other program using it, then run again.",
        )
    if "invalid URL" in text or "expected" in text or isinstance(exc, ValueError):
        return LinkError(
            f"Cannot open {url}: {text}",
            "Use a device path, socket://host:port, rfc2217://host:port, loop:// or sim://tflm.",
        )
    return LinkError(f"Cannot open {url}: {text}", "Check the cable and the port, then run again.")
