"""QEMU machines: a firmware ELF on an emulated Cortex-M board, its UART on a local TCP socket.

Generic over the machine: `QemuMachine` says which QEMU board, which core, and how virtual time
converts to instructions and board time; a machine's own module (qemu_m4.py) is its table entry
plus a QemuPort subclass. Under `-icount`, virtual time is a fixed function of the instructions
executed, so the device's tick counts per inference are deterministic (docs/qemu.md). The
firmware arrives built (tinyflow.build.firmware, driven by tinyflow.workflows.device).
`?sensor=FILE` (sim://qemu-m4): a played sensor (tinyflow/targets/played.py) written into a
temporary folder the port owns, named on the firmware's semihosting command line.
Input goes through the memory link (qemu_ring.py: a ring in guest RAM the host shares with QEMU)
on machines that have a RAM region to share and firmware that takes it; `?link=uart` keeps it
on the UART. Replies always come back on the UART.
"""

from __future__ import annotations

import builtins
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tinyflow.errors import BoardError, LinkError, ToolchainError, UsageError
from tinyflow.targets.machines.qemu_ring import DEFAULT_CAPACITY, HOST_CAN_SHARE, HostRing
from tinyflow.targets.port import Port

START_TIMEOUT = 10.0
EXIT_FAULT = 0x7F
# How long a write may wait for the firmware to make room in the memory link's ring: far longer
# than any inference, so only a firmware that stopped taking input reaches it.
WRITE_TIMEOUT = 30.0
RING_SYMBOL = "tinyflow_mps2_ring_attach"  # in the ELF: the firmware takes input from the ring
DOORBELL = b"\x00"  # one UART byte after each ring write: wakes a core sleeping in WFI
LINKS = ("auto", "ring", "uart")


@dataclass(frozen=True)
class QemuMachine:
    """One emulated machine: the QEMU board, the core whose counts apply, how time converts."""

    name: str  # the sim:// name, e.g. "qemu-m4"
    qemu_machine: str  # QEMU's -M, e.g. "mps2-an386"
    core: str  # boards.toml core the counts apply to ("cortex-m4" matches cortex-m4 and cortex-m4f)
    icount_shift: int  # one instruction = 2**shift ns of virtual time
    timer_hz: int  # the rate of the timer the port's HAL reads ticks from
    cycles_per_instruction: float  # board cycles per emulated instruction (a calibrated estimate)
    default_board: str
    qemu: str = "qemu-system-arm"
    boot_count_symbol: str = "tinyflow_mps2_boot_count"
    # The RAM region QEMU builds from -machine memory-backend (machine->ram): (address, size), the
    # memory link's home; None where the machine has none to share (the micro:bit).
    link_ram: tuple[int, int] | None = None

    @property
    def ticks_per_instruction(self) -> float:
        return (1 << self.icount_shift) * self.timer_hz / 1e9

    def instructions(self, ticks: int | float) -> int:
        """Instructions executed during `ticks` device ticks (exact under -icount)."""
        return int(round(ticks / self.ticks_per_instruction))

    def estimated_seconds(self, n_instructions: int, clock_hz: float) -> float:
        """Estimated time on a board at `clock_hz` (instructions x CPI / clock)."""
        return n_instructions * self.cycles_per_instruction / clock_hz

    def ticks_per_second_for(self, clock_hz: float) -> int:
        """The tick rate the firmware reports so that device microseconds = estimated board time."""
        return int(round(self.ticks_per_instruction * clock_hz / self.cycles_per_instruction))

    def command(self, elf: Path, tcp_port: int, boot_count: int = 0, args: tuple[str, ...] = ()) -> list[str]:
        """The emulator command line: UART0 on a TCP server that waits for the host to connect.

        `args`: the firmware's command line, which it reads through semihosting SYS_GET_CMDLINE
        (the played sensor's `--sensor PATH --sensor-pace P`)."""
        addr = symbol_address(elf, self.boot_count_symbol)
        # QEMU joins the args with spaces for SYS_GET_CMDLINE; a ',' in an option value is ',,'.
        cmdline = "".join(",arg=" + a.replace(",", ",,") for a in (("tinyflow", *args) if args else ()))
        # The generic loader writes the boot counter into the firmware's .noinit word before reset.
        loader = ["-device", f"loader,addr={addr:#x},data={boot_count},data-len=4"] if addr is not None else []
        return [
            self.qemu,
            *("-M", self.qemu_machine, "-nographic", "-monitor", "none", "-kernel", str(elf), *loader),
            *("-icount", f"shift={self.icount_shift},align=off,sleep=on"),
            *("-semihosting-config", "enable=on,target=native" + cmdline),
            # nodelay: without it Nagle holds every small reply ~40 ms.
            *("-serial", f"tcp:127.0.0.1:{tcp_port},server=on,wait=on,nodelay=on"),
        ]

    def runs_core(self, core: str) -> bool:
        """Whether a board's core is this machine's: the same core, or it with an FPU ("f") or as
        the "plus" variant (cortex-m4 runs cortex-m4f, cortex-m0 cortex-m0plus; cortex-m3 is not
        cortex-m33)."""
        core = core.lower()
        return core.startswith(self.core) and core[len(self.core) :] in ("", "f", "plus")

    def check_board(self, board):
        """The Board (id or Board) if its core is this machine's; BoardError otherwise, since
        instruction counts and time estimates would not apply."""
        from tinyflow.boards import list_boards, load_board

        b = load_board(board) if isinstance(board, str) else board
        if not self.runs_core(b.core):
            label = "Cortex-" + self.core.split("-", 1)[-1].upper()
            same = [x.id for x in list_boards() if self.runs_core(x.core)]
            raise BoardError(
                f"sim://{self.name} emulates a {label} but board {b.id} has a {b.core} core, so its instruction "
                "counts and time estimates would not apply",
                f"Use a {label} board ({', '.join(same)}), or sim://host / sim://tflm for {b.id}.",
            )
        return b


def symbol_address(elf: Path, name: str) -> int | None:
    """Address of a symbol in an ELF, or None when it has no such symbol."""
    from elftools.elf.elffile import ELFFile

    with builtins.open(elf, "rb") as fh:
        symtab = ELFFile(fh).get_section_by_name(".symtab")
        syms = symtab.get_symbol_by_name(name) if symtab is not None else None
        return syms[0]["st_value"] if syms else None


def _has_symbol(elf: Path, name: str) -> bool:
    """Whether `elf` is an ELF with symbol `name`; a missing or broken file is left for QEMU to report."""
    from elftools.common.exceptions import ELFError

    try:
        return elf.is_file() and symbol_address(elf, name) is not None
    except ELFError:
        return False


@dataclass
class Emulation:
    """What the target knows beyond the serial link (profile and bench read it)."""

    elf: Path
    memory: object  # tinyflow.build.arm.ElfMemory
    board: str
    clock_hz: float
    ticks_per_instruction: float
    cycles_per_instruction: float


class QemuPort(Port):
    """A pyserial-like port over QEMU's UART socket; owns the emulator process.

    Reads and writes raise LinkError naming the fault registers when the firmware faulted,
    or the exit code when it exited. close() kills the emulator. A machine's module subclasses
    it with its QemuMachine (machines/qemu_m4.py).
    """

    machine: QemuMachine

    def __init__(
        self,
        elf: Path,
        *,
        timeout: float = 2.0,
        emulation: Emulation | None = None,
        boot_count: int = 0,
        args: tuple[str, ...] = (),
        link: str = "auto",
        ring_bytes: int = DEFAULT_CAPACITY,
        write_timeout: float = WRITE_TIMEOUT,
    ):
        self.elf = Path(elf)
        self.args = tuple(args)  # the firmware's semihosting command line (a played sensor)
        self.sensor_folder = None  # the temporary folder of the played sensor file, removed on close
        self.boot_count = boot_count
        self.emulation = emulation
        self.qemu_args: tuple[str, ...] = ()  # extra emulator options (a TCG plugin: restart_with)
        self._timeout = timeout
        self._proc = None
        self._serial = None
        self._log = None
        self.write_timeout = write_timeout
        self._ring = None
        self._link_folder = None  # the ring's backing file lives here; removed on close
        self.link = self._resolve_link(link)
        if self.link == "ring":
            self._open_ring(ring_bytes)
        try:
            self._start()
        except BaseException:
            self._close_ring()
            raise

    # -- the memory link ------------------------------------------------------------------
    def _resolve_link(self, link: str) -> str:
        """The link to use, "ring" or "uart": auto takes the ring where the machine and the firmware can."""
        if link not in LINKS:
            raise UsageError(f"Unknown link {link!r} for sim://{self.machine.name}", f"Use one of: {', '.join(LINKS)}.")
        able = HOST_CAN_SHARE and self.machine.link_ram is not None and _has_symbol(self.elf, RING_SYMBOL)
        if link == "ring" and not able:
            why = "the machine has no RAM region to share" if self.machine.link_ram is None else "the firmware lacks it"
            raise UsageError(
                f"sim://{self.machine.name} cannot take input through guest memory: {why}",
                "Use ?link=uart.",
            )
        return "ring" if able and link != "uart" else "uart"

    def _open_ring(self, ring_bytes: int) -> None:
        _, size = self.machine.link_ram
        self._link_folder = tempfile.TemporaryDirectory(prefix="tinyflow-qemu-link-")
        try:
            self._ring = HostRing(Path(self._link_folder.name) / "link-ram.bin", size, ring_bytes)
        except BaseException:
            self._close_ring()
            raise

    def _close_ring(self) -> None:
        if self._ring is not None:
            self._ring.close()
            self._ring = None
        if self._link_folder is not None:
            self._link_folder.cleanup()
            self._link_folder = None

    def _command(self, tcp_port: int) -> list[str]:
        if self._ring is None:
            return self.machine.command(self.elf, tcp_port, self.boot_count, self.args)
        self._ring.clear()  # the emulator is not running: nothing reads the ring now
        args = (*self.args, "--link-ring", f"{self.machine.link_ram[0]:#x}")
        return [*self.machine.command(self.elf, tcp_port, self.boot_count, args), *self._ring.backend_args()]

    def _write_ring(self, data) -> int:
        """Put `data` into the ring, waiting (bounded) for the firmware to make room."""
        view = memoryview(data).cast("B")
        sent, pause = 0, 0.0002
        deadline = time.monotonic() + self.write_timeout
        while sent < len(view):
            n = self._ring.put(view[sent:])
            if n:
                sent += n
                pause = 0.0002
                self._guard(lambda s: s.write(DOORBELL))
                continue
            self.check()
            if time.monotonic() >= deadline:
                raise LinkError(
                    f"The firmware on {self.machine.qemu_machine} took no input for {self.write_timeout:g} s "
                    f"({self._ring.unread()} B unread in its {self._ring.capacity} B memory-link ring)",
                    "The firmware is stuck; open the target again to restart it (?link=uart to rule out the link).",
                )
            time.sleep(pause)  # waiting for an inference to finish: back off to a few ms
            pause = min(pause * 2, 0.005)
        return sent

    # -- life cycle -------------------------------------------------------------------
    def _start(self) -> None:
        if shutil.which(self.machine.qemu) is None:
            raise ToolchainError(
                f"{self.machine.qemu} was not found on PATH",
                "Install it (apt-get install qemu-system-arm) or run ./run setup.",
            )
        last = None
        for _ in range(3):  # a free port can be taken between probing and QEMU binding it
            tcp_port = _free_port()
            self._log = tempfile.TemporaryFile()
            self._proc = subprocess.Popen(
                [*self._command(tcp_port), *self.qemu_args],
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
            try:
                self._serial = self._connect(tcp_port)
                return
            except LinkError as exc:
                last = exc
                self._kill()
                self._log.close()
        raise last

    def _connect(self, tcp_port: int):
        import serial

        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise LinkError(
                    f"{self.machine.qemu} exited at start-up with code {self._proc.returncode}: {self._output()[:300]}",
                    f"Check that the firmware ELF is a Cortex-M image for {self.machine.qemu_machine}.",
                )
            try:
                return serial.serial_for_url(f"socket://127.0.0.1:{tcp_port}", timeout=self._timeout)
            except (serial.SerialException, OSError):
                time.sleep(0.05)
        raise LinkError(
            f"{self.machine.qemu} did not open its UART socket within {START_TIMEOUT:.0f} s",
            "The machine may be overloaded; run again.",
        )

    def _kill(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            except OSError:
                pass
            self._serial = None
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(5)

    def close(self) -> None:
        self._kill()
        self._close_ring()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.sensor_folder is not None:
            self.sensor_folder.cleanup()
            self.sensor_folder = None

    def reset(self) -> None:
        """Restart the emulator: the device reboots with its boot counter one higher."""
        self._kill()
        self.boot_count += 1
        self._start()

    def restart_with(self, qemu_args: tuple[str, ...]) -> None:
        """Restart the emulator with extra options (e.g. `-plugin`), before any exchange; the boot
        counter stays, so the device cannot tell."""
        self._kill()
        self.qemu_args = tuple(qemu_args)
        self._start()

    def __del__(self):  # never leave an emulator behind
        try:
            self.close()
        except Exception:
            pass

    # -- pyserial surface ---------------------------------------------------------------
    @property
    def timeout(self):
        return self._timeout

    @timeout.setter
    def timeout(self, value):
        self._timeout = value
        if self._serial is not None:
            self._serial.timeout = value

    @property
    def is_open(self) -> bool:
        return self._serial is not None and self._proc.poll() is None

    @property
    def in_waiting(self) -> int:
        return self._guard(lambda s: s.in_waiting)

    def read(self, size: int = 1) -> bytes:
        data = self._guard(lambda s: s.read(size))
        if len(data) < size:
            self.check()
        return data

    def write(self, data) -> int:
        if self._ring is not None:
            if self._serial is None:
                raise LinkError(f"The sim://{self.machine.name} port is closed", "Open the target again.")
            return self._write_ring(data)
        return self._guard(lambda s: s.write(data))

    def flush(self) -> None:
        self._guard(lambda s: s.flush())

    def reset_input_buffer(self) -> None:
        self._guard(lambda s: s.reset_input_buffer())

    def reset_output_buffer(self) -> None:
        self._guard(lambda s: s.reset_output_buffer())

    def _guard(self, op):
        import serial

        if self._serial is None:
            raise LinkError(f"The sim://{self.machine.name} port is closed", "Open the target again.")
        try:
            return op(self._serial)
        except (serial.SerialException, OSError) as exc:
            self.check(wait=1.0)
            raise LinkError(f"The QEMU UART socket failed: {exc}", "Run again; report it if it repeats.") from exc

    # -- faults and exit codes ----------------------------------------------------------
    def exit_code(self, wait: float = 0.0) -> int | None:
        """The emulator's exit code (the firmware's semihosting exit code), None while running."""
        if self._proc is None:
            return None
        try:
            return self._proc.wait(wait) if wait else self._proc.poll()
        except subprocess.TimeoutExpired:
            return None

    def check(self, wait: float = 0.0) -> None:
        """Raise LinkError when the firmware has faulted or exited."""
        code = self.exit_code(wait)
        if code is None:
            return
        out = self._output()
        fault = next((ln for ln in out.splitlines() if "HardFault" in ln or "exception" in ln), "")
        if code == EXIT_FAULT or fault:
            raise LinkError(
                f"The firmware crashed on {self.machine.qemu_machine}: {fault.removeprefix('tinyflow: ') or 'fault'}",
                "This is a tinyflow bug: report it with the model and this line (pc is in the ELF: "
                f"arm-none-eabi-addr2line -e {self.elf} <pc>).",
            )
        raise LinkError(
            f"The firmware on {self.machine.qemu_machine} exited with code {code}"
            + (f": {out.strip()[:200]}" if out.strip() else ""),
            "Open the target again to restart it.",
        )

    def output(self) -> str:
        """Everything the emulator and the firmware's semihosting wrote so far."""
        return self._output()

    def _output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        text = self._log.read().decode(errors="replace")
        return "\n".join(ln for ln in text.splitlines() if "waiting for connection" not in ln)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def open_machine(port_cls, url_parts=None, *, firmware=None, board=None, timeout: float = 2.0) -> QemuPort:
    """Start a built firmware on `port_cls`'s machine; returns the port.

    Args:
        firmware: a tinyflow.build.firmware.Firmware (path, memory, board) or the ELF's path; with
            a bare path the port has no `emulation` (its memory is unknown).
        board: a board id or Board; overrides ?board= and the firmware's board.
    """
    from tinyflow.targets.sim import query_params

    machine = port_cls.machine
    if firmware is None:
        raise UsageError(
            f"sim://{machine.name} runs a built firmware, and none was given",
            "Open it through tinyflow.workflows.device.open_device, which builds the firmware for the model.",
        )
    params = query_params(url_parts)
    b = machine.check_board(board or params.get("board") or getattr(firmware, "board", None) or machine.default_board)
    elf = Path(getattr(firmware, "path", firmware))
    memory = getattr(firmware, "memory", None)
    emulation = None
    if memory is not None:
        emulation = Emulation(
            elf=elf,
            memory=memory,
            board=b.id,
            clock_hz=float(b.cpu_hz),
            ticks_per_instruction=machine.ticks_per_instruction,
            cycles_per_instruction=machine.cycles_per_instruction,
        )
    link = params.get("link", "auto").lower()
    return _start_with_sensor(port_cls, elf, params, timeout=timeout, emulation=emulation, link=link)


def _start_with_sensor(port_cls, elf: Path, params: dict[str, str], **kwargs) -> QemuPort:
    """Start the port, with the played sensor of `?sensor=` written into a temporary folder it owns."""
    from tinyflow.targets.played import prepare_sensor

    if "sensor" not in params:
        return port_cls(elf, **kwargs)
    folder = tempfile.TemporaryDirectory(prefix="tinyflow-sensor-")
    try:
        if any(c.isspace() for c in folder.name):  # SYS_GET_CMDLINE separates arguments by spaces
            raise UsageError(
                f"The temporary folder {folder.name!r} has a space in its path, which QEMU's semihosting "
                "command line cannot carry",
                "Set TMPDIR to a folder without spaces.",
            )
        port = port_cls(elf, args=tuple(prepare_sensor(params, folder.name)), **kwargs)
    except BaseException:
        folder.cleanup()
        raise
    port.sensor_folder = folder
    return port


def machine_api(machine) -> tuple[type[QemuPort], Callable[..., QemuPort]]:
    """(QemuPort subclass, open) of one emulated machine: what its module exports besides its table
    entry, so a machine module holds only what differs between machines."""
    port_cls = type(
        "QemuPort", (QemuPort,), {"machine": machine, "__doc__": f"A port on the {machine.qemu_machine} emulator."}
    )

    def open_port(url_parts=None, *, firmware=None, board=None, timeout: float = 2.0, **_ignored) -> QemuPort:
        """Start the built firmware (a tinyflow.build.firmware.Firmware or an ELF path) on QEMU."""
        return open_machine(port_cls, url_parts, firmware=firmware, board=board, timeout=timeout)

    return port_cls, open_port
