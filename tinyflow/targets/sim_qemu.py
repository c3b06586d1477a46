"""`sim://qemu-m4[?board=nano33ble]`: the ARM firmware on QEMU's Cortex-M4F board (mps2-an386).

The firmware (protocol core + compiled model + the mps2_an386 port) is cross-built with
arm-none-eabi-gcc, linked into the chosen board's flash and RAM, and run under
`qemu-system-arm -icount` with its UART on a local TCP socket. With -icount, virtual time is a
fixed function of the instructions executed, so the device's tick counts per inference are
deterministic; they convert exactly to instructions, and to an *estimated* time on the board
through a documented cycles-per-instruction factor (see docs/qemu.md).
"""

from __future__ import annotations

import builtins
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

from tinyflow.errors import LinkError, ToolchainError
from tinyflow.targets.device import model_bytes

QEMU = "qemu-system-arm"
MACHINE = "mps2-an386"
# One instruction = 2**SHIFT ns of virtual time; Timer0 counts at 25 MHz, so 3.2 ticks per
# instruction. Above 2 ticks per instruction, the +-1 tick a timer read can be off by rounds
# away; SHIFT 7 still lets a 32-bit tick count span 1.3 G instructions (the largest corpus
# model on TFLM reference kernels needs 0.83 G).
ICOUNT_SHIFT = 7
TIMER_HZ = 25_000_000
TICKS_PER_INSTRUCTION = (1 << ICOUNT_SHIFT) * TIMER_HZ / 1e9
# Cycles per instruction of a Cortex-M4 running int8 inference from flash. Calibrated on the
# MLPerf Tiny v0.5 STM32L4R5 (120 MHz) TFLM+CMSIS-NN latencies divided by the instruction
# counts of the same build on mps2-an386 (KWS 2.83, IC 2.83, VWW 2.99, AD 2.07; the median of
# the four, 2.83). It folds in flash wait states and pipeline stalls; an estimate, not a model.
CYCLES_PER_INSTRUCTION = 2.83
START_TIMEOUT = 10.0
EXIT_FAULT = 0x7F
DEFAULT_BOARD = "nano33ble"
RX_QUEUE_BYTES = 16384


def instructions(ticks: int | float) -> int:
    """Instructions executed during `ticks` device ticks (exact under -icount)."""
    return int(round(ticks / TICKS_PER_INSTRUCTION))


def estimated_seconds(n_instructions: int, clock_hz: float) -> float:
    """Estimated time on a Cortex-M4 board at `clock_hz` (instructions x CPI / clock)."""
    return n_instructions * CYCLES_PER_INSTRUCTION / clock_hz


def ticks_per_second_for(clock_hz: float) -> int:
    """The tick rate the firmware reports so that device microseconds = estimated board time."""
    return int(round(TICKS_PER_INSTRUCTION * clock_hz / CYCLES_PER_INSTRUCTION))


BOOT_COUNT_SYMBOL = "tinyflow_mps2_boot_count"


def qemu_command(elf: Path, tcp_port: int, boot_count: int = 0) -> list[str]:
    """The emulator command line: UART0 on a TCP server that waits for the host to connect."""
    addr = symbol_address(elf, BOOT_COUNT_SYMBOL)
    # The generic loader writes the boot counter into the firmware's .noinit word before reset.
    loader = ["-device", f"loader,addr={addr:#x},data={boot_count},data-len=4"] if addr is not None else []
    return [
        QEMU,
        "-M",
        MACHINE,
        "-nographic",
        "-monitor",
        "none",
        "-kernel",
        str(elf),
        *loader,
        "-icount",
        f"shift={ICOUNT_SHIFT},align=off,sleep=on",
        "-semihosting-config",
        "enable=on,target=native",
        # nodelay: without it Nagle holds every small reply ~40 ms.
        "-serial",
        f"tcp:127.0.0.1:{tcp_port},server=on,wait=on,nodelay=on",
    ]


def symbol_address(elf: Path, name: str) -> int | None:
    """Address of a symbol in an ELF, or None when it has no such symbol."""
    from elftools.elf.elffile import ELFFile

    with builtins.open(elf, "rb") as fh:
        symtab = ELFFile(fh).get_section_by_name(".symtab")
        syms = symtab.get_symbol_by_name(name) if symtab is not None else None
        return syms[0]["st_value"] if syms else None


@dataclass
class Emulation:
    """What the target knows beyond the serial link (profile and bench read it)."""

    elf: Path
    memory: object  # tinyflow.build.arm.ElfMemory
    board: str
    clock_hz: float
    ticks_per_instruction: float = TICKS_PER_INSTRUCTION
    cycles_per_instruction: float = CYCLES_PER_INSTRUCTION


class QemuPort:
    """A pyserial-like port over QEMU's UART socket; owns the emulator process.

    Reads and writes raise LinkError naming the fault registers when the firmware faulted,
    or the exit code when it exited. close() kills the emulator.
    """

    def __init__(self, elf: Path, *, timeout: float = 2.0, emulation: Emulation | None = None, boot_count: int = 0):
        self.elf = Path(elf)
        self.boot_count = boot_count
        self.emulation = emulation
        self._timeout = timeout
        self._proc = None
        self._serial = None
        self._log = None
        self._start()

    # -- life cycle -------------------------------------------------------------------
    def _start(self) -> None:
        if shutil.which(QEMU) is None:
            raise ToolchainError(
                f"{QEMU} was not found on PATH", "Install it (apt-get install qemu-system-arm) or run ./run setup."
            )
        last = None
        for _ in range(3):  # a free port can be taken between probing and QEMU binding it
            tcp_port = _free_port()
            self._log = tempfile.TemporaryFile()
            self._proc = subprocess.Popen(
                qemu_command(self.elf, tcp_port, self.boot_count),
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
                    f"{QEMU} exited at start-up with code {self._proc.returncode}: {self._output()[:300]}",
                    "Check that the firmware ELF is a Cortex-M image for mps2-an386.",
                )
            try:
                return serial.serial_for_url(f"socket://127.0.0.1:{tcp_port}", timeout=self._timeout)
            except (serial.SerialException, OSError):
                time.sleep(0.05)
        raise LinkError(
            f"{QEMU} did not open its UART socket within {START_TIMEOUT:.0f} s",
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
        if self._log is not None:
            self._log.close()
            self._log = None

    def reset(self) -> None:
        """Restart the emulator: the device reboots with its boot counter one higher."""
        self._kill()
        self.boot_count += 1
        self._start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

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
            raise LinkError("The sim://qemu-m4 port is closed", "Open the target again.")
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
                f"The firmware crashed on {MACHINE}: {fault.removeprefix('tinyflow: ') or 'fault'}",
                "This is a tinyflow bug: report it with the model and this line (pc is in the ELF: "
                f"arm-none-eabi-addr2line -e {self.elf} <pc>).",
            )
        raise LinkError(
            f"The firmware on {MACHINE} exited with code {code}" + (f": {out.strip()[:200]}" if out.strip() else ""),
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


# -- the target: build the firmware for a model and a board, then launch it ----------------


def query_params(url_parts) -> dict[str, str]:
    """`?board=...` etc. from a urllib SplitResult, a query string, or a dict."""
    if url_parts is None:
        return {}
    if isinstance(url_parts, dict):
        return {k: (v[-1] if isinstance(v, list) else v) for k, v in url_parts.items()}
    query = url_parts if isinstance(url_parts, str) else getattr(url_parts, "query", "")
    return {k: v[-1] for k, v in parse_qs(query.lstrip("?")).items()}


def open(
    url_parts=None, *, model=None, board=None, timeout: float = 2.0, dsp: bool | None = None, **_ignored
) -> QemuPort:  # noqa: A001
    """Build the firmware for `model` on `board` and start it on QEMU; returns the port.

    Args:
        url_parts: the parsed `sim://qemu-m4?...` URL (board= picks the board; kernels=portable
            builds the portable C kernels instead of the Cortex-M4 DSP variants).
        model: the .tflite as bytes or a path.
        board: a board id or Board; overrides ?board=.
    """
    from tinyflow.errors import UsageError

    if model is None:
        raise UsageError("sim://qemu-m4 needs a model to build its firmware", "Pass the model file (MODEL argument).")
    params = query_params(url_parts)
    board = board or params.get("board") or DEFAULT_BOARD
    if dsp is None:  # ?kernels=portable builds the portable C kernels instead of the DSP variants
        dsp = params.get("kernels", "dsp") != "portable"
    fw, info = build_model_firmware(model_bytes(model), board, dsp=dsp)
    emulation = Emulation(elf=fw.elf, memory=fw.memory, board=info.id, clock_hz=info.clock_hz)
    return QemuPort(fw.elf, timeout=timeout, emulation=emulation)


# -- building the firmware for a model ----------------------------------------------------


@dataclass
class BoardBudget:
    """What sim://qemu-m4 needs of a board: its id, clock and the flash/RAM a firmware may use."""

    id: str
    clock_hz: float
    flash_bytes: int
    ram_bytes: int


def board_budget(board) -> BoardBudget:
    """The chosen board's clock and the flash/RAM left for the firmware (board minus reserves)."""
    from tinyflow.boards import list_boards, load_board
    from tinyflow.errors import BoardError

    if isinstance(board, BoardBudget):
        return board
    b = load_board(board) if isinstance(board, str) else board
    if "cortex-m4" not in b.core:
        m4 = [x.id for x in list_boards() if "cortex-m4" in x.core]
        raise BoardError(
            f"sim://qemu-m4 emulates a Cortex-M4 but board {b.id} has a {b.core} core, so its instruction "
            "counts and time estimates would not apply",
            f"Use a Cortex-M4 board ({', '.join(m4)}), or sim://host / sim://tflm for {b.id}.",
        )
    return BoardBudget(
        id=b.id,
        clock_hz=float(b.cpu_hz),
        flash_bytes=b.flash_bytes - b.reserved_flash_bytes,
        ram_bytes=b.ram_bytes - b.reserved_ram_bytes,
    )


def build_model_firmware(model_bytes: bytes, board="nano33ble", *, name: str = "model", dsp: bool = True):
    """Cross-build the protocol core + the compiled model + the mps2_an386 port for `board`.

    Args:
        dsp: use the Cortex-M4 DSP kernel variants (bit-identical outputs); False builds the
            portable kernels (the bench compares both).

    Returns:
        (tinyflow.build.arm.ArmFirmware, BoardBudget)
    Raises:
        BoardError: the firmware does not fit the board (with the numbers).
        ModelError: the compiled runtime cannot compile the model.
    """
    from tinyflow.build import arm
    from tinyflow.build.cc import stage_sources
    from tinyflow.compile import compile_model
    from tinyflow.compile.kernels import kernel_sources, variant_for
    from tinyflow.resources import firmware_dir

    budget = board_budget(board)
    compiled = compile_model(model_bytes, name=name)
    # Keyed by the generated C (which embeds the model's hash): a newer compiler never reuses a stale model.c.
    staged = stage_sources(compiled.sources, "qemu-src")
    src_dir, digest = staged[0].parent, staged[0].parent.name[:16]
    fw_dir = firmware_dir()
    # mps2-an386 is a Cortex-M4: the same kernel choice as a generated project for the board.
    kernels = kernel_sources(list(compiled.kernels), variant_for("cortex-m4", dsp))
    sources = [
        *(p for p in staged if p.suffix == ".c"),
        *kernels,
        *sorted((fw_dir / "src").glob("*.c")),
        arm.port_dir() / "main.c",
    ]
    fw = arm.build_firmware(
        sources,
        memory_map(budget),
        include_dirs=[src_dir, fw_dir / "src"],
        defines=port_defines(budget),
        name=f"qemu-{name}-{digest}{'' if dsp else '-portable'}",
    )
    return fw, budget


def port_defines(budget: BoardBudget) -> dict[str, str]:
    """The mps2_an386 port's build settings for a board: tick rate, clock, id, receive queue."""
    from tinyflow.escaping import c_string

    return {
        "TINYFLOW_MPS2_TICKS_PER_SECOND": f"{ticks_per_second_for(budget.clock_hz)}u",
        "TINYFLOW_CPU_HZ": f"{int(budget.clock_hz)}u",
        "TINYFLOW_BOARD_ID": c_string(budget.id),
        # QEMU's socket absorbs what the host sends while the core computes, so the host
        # may keep a window of requests in flight (a real UART has only its FIFO).
        "TINYFLOW_RX_QUEUE_BYTES": RX_QUEUE_BYTES,
    }


def memory_map(budget: BoardBudget):
    """The linker's flash/RAM limits for a board (a firmware that does not fit fails to link)."""
    from tinyflow.build import arm

    return arm.MemoryMap(flash_bytes=budget.flash_bytes, ram_bytes=budget.ram_bytes, board=budget.id)
