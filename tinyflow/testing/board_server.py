"""`tinyflow board serve`: one machine's board (or a simulated one) over RFC 2217 for everyone else.

    server = BoardServer(open_served_port("sim://host", model="m.tflite"), ("127.0.0.1", 0))
    server.address                # ("127.0.0.1", 40123): others use --target rfc2217://127.0.0.1:40123
    server.serve(stop=event)      # until the event is set; one client at a time

pyserial's PortManager speaks the RFC 2217 option negotiation (baud rate, control lines, purge);
this module moves the bytes, as pyserial's rfc2217_server example does, with every wait bounded
(accept, socket reads and port reads time out every POLL seconds and look at the stop flag).
No authentication and no encryption: `board serve` listens on 127.0.0.1 by default and warns when
told to listen anywhere else; use that only on a trusted network (docs/ci.md).
"""

from __future__ import annotations

import ipaddress
import socket
import threading

import serial
import serial.rfc2217

from tinyflow.errors import LinkError, UsageError

POLL = 0.2  # seconds between looks at the stop flag; also the port's read timeout
CHUNK = 4096  # bytes moved per read, either way
JOIN_TIMEOUT = 2.0


def parse_listen(text: str) -> tuple[str, int]:
    """'HOST:PORT' -> (host, port); port 0 picks a free one. UsageError when malformed."""
    host, sep, port = str(text).rpartition(":")
    host = host.strip("[]")  # [::1]:2217
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise UsageError(
            f"--listen must be HOST:PORT, got {text!r}", "Pass e.g. --listen 127.0.0.1:2217 (port 0: any)."
        )
    return host, int(port)


def is_loopback(host: str) -> bool:
    """True when `host` names this machine only (127.0.0.0/8, ::1, localhost): nobody else can connect.

    Any other name or address (0.0.0.0 and :: included) may be reachable from the network.
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything, so it is not taken as loopback
        return False


class SerialFace:
    """The pyserial settings surface PortManager reads and sets, over a tinyflow Port (a simulated board).

    A simulator has no line settings or modem lines: settings are kept and reported back, the
    modem lines read as a board that is present (CTS, DSR, CD up). Bytes go to the port unchanged.
    """

    def __init__(self, port, name: str):
        self.port, self.name = port, name
        self.baudrate, self.bytesize, self.parity, self.stopbits = 115200, 8, serial.PARITY_NONE, 1
        self.xonxoff = self.rtscts = self.break_condition = False
        self.dtr = self.rts = True
        self.cts = self.dsr = self.cd = True
        self.ri = False

    def read(self, size: int = 1) -> bytes:
        return self.port.read(size)

    def write(self, data) -> int:
        return self.port.write(bytes(data))

    @property
    def in_waiting(self) -> int:
        return self.port.in_waiting

    def reset_input_buffer(self) -> None:
        self.port.reset_input_buffer()

    def reset_output_buffer(self) -> None:
        self.port.reset_output_buffer()

    def close(self) -> None:
        self.port.close()


def open_served_port(url: str, *, model=None, baud: int | None = None):
    """The port to serve: a simulated board (sim://..., built for `model`) or a device path / pyserial URL.

    Raises:
        UsageError, LinkError, ModelError, ToolchainError: from opening (and building) the target.
    """
    from tinyflow import targets
    from tinyflow.workflows.device import open_device

    if url.startswith("sim:"):
        return SerialFace(open_device(url, model=model, timeout=POLL), url)
    if url.startswith("rfc2217:"):
        raise UsageError(f"{url!r} is already a remote port", "Serve the board on the machine it is attached to.")
    port = targets.open_target(url, timeout=POLL, baud=baud or targets.DEFAULT_BAUD)
    return port


class BoardServer:
    """A listening socket that relays one RFC 2217 client at a time to `port`."""

    def __init__(self, port, listen: tuple[str, int]):
        self.port = port
        try:
            self._sock = socket.create_server(listen, reuse_port=False)
        except OSError as exc:
            raise LinkError(
                f"Cannot listen on {listen[0]}:{listen[1]}: {exc.strerror or exc}",
                "Pick another port with --listen HOST:PORT, or stop what uses it.",
            ) from None
        self._sock.settimeout(POLL)
        self._send_lock = threading.Lock()
        self._client: socket.socket | None = None

    @property
    def address(self) -> tuple[str, int]:
        return self._sock.getsockname()[:2]

    def serve(self, stop: threading.Event, on_client=None) -> None:
        """Accept and relay clients until `stop` is set; `on_client(address, error)` hears of each."""
        try:
            while not stop.is_set():
                try:
                    conn, peer = self._sock.accept()
                except TimeoutError:
                    continue
                error = self._relay(conn, stop)
                if on_client:
                    on_client(peer, error)
        finally:
            self._sock.close()

    def close(self) -> None:
        self._sock.close()
        self.port.close()

    # -- one client ---------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        """PortManager's connection hook: bytes to the client (negotiation replies and escaped data)."""
        with self._send_lock:
            self._client.sendall(data)

    def _relay(self, conn: socket.socket, stop: threading.Event) -> str | None:
        """Relay one client until it leaves or `stop`; returns the error that ended it, or None."""
        conn.settimeout(POLL)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._client = conn
        manager = serial.rfc2217.PortManager(self.port, self)
        gone = threading.Event()
        errors: list[str] = []
        reader = threading.Thread(target=self._port_to_client, args=(manager, stop, gone, errors), daemon=True)
        reader.start()
        try:
            while not (stop.is_set() or gone.is_set()):
                try:
                    data = conn.recv(CHUNK)
                except TimeoutError:
                    continue
                if not data:
                    break
                self.port.write(b"".join(manager.filter(data)))
        except (OSError, serial.SerialException) as exc:
            errors.append(str(exc))
        finally:
            gone.set()
            reader.join(JOIN_TIMEOUT)
            conn.close()
            self._client = None
        return errors[0] if errors else None

    def _port_to_client(self, manager, stop, gone, errors) -> None:
        modem = True
        try:
            while not (stop.is_set() or gone.is_set()):
                data = self.port.read(max(1, min(self.port.in_waiting, CHUNK)))
                if data:
                    self.write(b"".join(manager.escape(data)))
                if modem:
                    try:
                        manager.check_modem_lines()
                    except (OSError, serial.SerialException):
                        modem = False  # a port without modem lines (a pty): the data still flows
        except (OSError, serial.SerialException, LinkError) as exc:
            errors.append(str(exc))
        finally:
            gone.set()
