"""Device paths and pyserial URLs: /dev/ttyACM0, COM3, socket://, rfc2217://, loop://, spy://...

Opening only: the port returned is pyserial's own. Failures become one LinkError (missing, busy,
forbidden port) or UsageError (a network URL without host and port) saying what to do.
"""

from __future__ import annotations

import errno
from urllib.parse import urlsplit

from tinyflow.errors import LinkError, UsageError

DEFAULT_BAUD = 115200


def open_serial(url: str, *, timeout: float, baud: int = DEFAULT_BAUD):
    """Open a device path or pyserial URL; device paths are locked for exclusive use."""
    import serial

    _check_network_url(url)
    # A device path is locked for exclusive use: a second program on the same board is refused
    # with a clear message instead of both silently stealing each other's bytes.
    extra = {} if "://" in url else {"exclusive": True}
    # pyserial's rfc2217 client refuses a write timeout (NotImplementedError); its socket's own
    # 5 s timeout bounds its writes instead.
    if not url.startswith("rfc2217:"):
        extra["write_timeout"] = max(timeout, 5.0)
    try:
        return serial.serial_for_url(url, baudrate=baud, timeout=timeout, **extra)
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
