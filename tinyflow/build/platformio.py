"""Run PlatformIO on generated projects: lint, build, size, flash. Fails fast and says why.

PlatformIO retries its registry for about a minute when a platform or library is missing and the
network is down. Before running it we check what is installed (PlatformIO's own package manager,
offline) and whether the registry or GitHub answers within a few seconds, so a missing platform
is a ToolchainError in seconds, not a hang. Every subprocess has a timeout.
"""

from __future__ import annotations

import errno
import re
import shlex
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tinyflow.build import pio_offline
from tinyflow.build.pio_offline import GIT_HOST, REGISTRY_HOST  # noqa: F401 (part of this module's API)
from tinyflow.errors import BoardError, LinkError, ToolchainError, UsageError

BUILD_TIMEOUT_S = 1800.0  # a first TFLM build on a slow laptop: minutes, not hours
UPLOAD_TIMEOUT_S = 300.0
REACH_TIMEOUT_S = 3.0
_USAGE = re.compile(r"^(RAM|Flash):\s*\[.*?\]\s*[\d.]+%\s*\(used (\d+) bytes from (\d+) bytes\)", re.M)


def require_platformio() -> None:
    """Check that PlatformIO (the optional extra `tinyflow[boards]`) is importable.

    Raises:
        ToolchainError: it is not installed in this Python.
    """
    try:
        import platformio  # noqa: F401
    except ImportError:
        raise ToolchainError(
            "PlatformIO is not installed in this Python (firmware build, size, flash and the ini lint need it)",
            'Install it with: pip install "tinyflow[boards]"',
        ) from None


def pio_command() -> list[str]:
    """How to run PlatformIO: the `platformio` module of this Python (the extra tinyflow[boards])."""
    require_platformio()
    return [sys.executable, "-m", "platformio"]


def pio_hint(*args) -> str:
    """`pio ARGS` as a command that works when pasted: PlatformIO is installed in tinyflow's Python
    environment (.venv/bin in a checkout set up by ./run), which is usually not on PATH."""
    exe = Path(sys.executable).with_name("pio")
    base = [str(exe)] if exe.is_file() else [sys.executable, "-m", "platformio"]
    return shlex.join([*base, *map(str, args)])


def lint_ini(path: str | Path) -> dict:
    """PlatformIO's own ProjectConfig.lint() of a platformio.ini: {"errors": [...], "warnings": [...]}."""
    require_platformio()
    from platformio.project.config import ProjectConfig

    key = str(path)
    ProjectConfig._instances.pop(key, None)  # its cache is keyed by path and mtime (1 s resolution)
    return ProjectConfig.lint(key)


@dataclass(frozen=True)
class EnvSpec:
    """One environment of a project's platformio.ini."""

    name: str
    platform: str
    libs: tuple[str, ...]

    @property
    def is_native(self) -> bool:
        """Platform `native` (any pinned version): a program for this computer, no board, no size budget."""
        return self.platform.split("@", 1)[0] == "native"


def project_env(project: str | Path, env: str | None = None) -> EnvSpec:
    """The env to build (default: the first of default_envs).

    Raises:
        UsageError: not a PlatformIO project, or no such env.
        ToolchainError: PlatformIO is not installed.
    """
    require_platformio()
    from platformio.project.config import ProjectConfig

    ini = Path(project) / "platformio.ini"
    if not ini.exists():
        raise UsageError(
            f"{project} has no platformio.ini", "Run `tinyflow firmware generate` first, or pass the project folder."
        )
    ProjectConfig._instances.pop(str(ini), None)
    config = ProjectConfig.get_instance(str(ini))
    envs = config.envs()
    name = env or (config.default_envs() or envs)[0]
    if name not in envs:
        raise UsageError(f"{ini} has no env {name!r} (it has: {', '.join(envs)})", "Pass one of them with --env.")
    return EnvSpec(
        name=name,
        platform=config.get(f"env:{name}", "platform"),
        libs=tuple(config.get(f"env:{name}", "lib_deps") or ()),
    )


def platform_installed(spec: str) -> bool:
    """Whether a dev-platform (e.g. "nordicnrf52", "espressif32@6.5.0") is installed, without the network."""
    from platformio.package.manager.platform import PlatformPackageManager

    try:
        return PlatformPackageManager().get_package(spec) is not None
    except Exception:  # noqa: BLE001 (a malformed spec or a broken package folder: not usable)
        return False


def reachable(host: str, port: int = 443, timeout: float = REACH_TIMEOUT_S) -> bool:
    """Whether a TCP connection to host:port opens within `timeout` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def missing_downloads(project: str | Path, env: EnvSpec, targets: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(what, host) for everything `pio run -e ENV` would download first; offline, from PlatformIO's package managers."""
    if not platform_installed(env.platform):
        # Its packages cannot be known before it is installed: installing it brings them too.
        missing = [(f"PlatformIO platform {env.platform!r} is not installed (env {env.name})", REGISTRY_HOST)]
    else:
        missing = pio_offline.platform_packages_missing(project, env.name, env.platform, targets)
    return [*missing, *pio_offline.core_packages_missing(), *pio_offline.libraries_missing(project, env.name, env.libs)]


def check_can_build(project: str | Path, env: EnvSpec, targets: tuple[str, ...] = ()) -> None:
    """Raise ToolchainError now when PlatformIO would need a download it cannot get (not a minute of retries).

    Args:
        targets: PlatformIO targets to run too ("upload" needs the board's upload tool).
    """
    missing = missing_downloads(project, env, targets)
    offline = [h for h in sorted({host for _, host in missing}) if not reachable(h)]
    if not offline:
        return
    what = "; ".join(item for item, host in missing if host in offline)
    hint = (
        f"Connect to the internet once and run `{pio_hint('pkg', 'install', '-d', project, '-e', env.name)}`: "
        "it downloads all of them, and later builds work offline."
    )
    if env.is_native:
        hint += (
            " Offline now, `tinyflow eval MODEL.tflite --target sim://host` runs the model on the "
            "firmware's protocol core built with the system compiler."
        )
    raise ToolchainError(
        f"PlatformIO cannot build env {env.name} offline: {what}; and {', '.join(offline)} cannot be reached", hint
    )


@dataclass
class SizeReport:
    """Flash and static RAM of a build as PlatformIO reports them, against the board."""

    env: str
    flash_used: int
    flash_max: int
    ram_used: int
    ram_max: int
    board: str = ""
    board_ram_usable: int = 0  # the board's RAM minus what its core reserves at run time too
    program: str = ""  # env native: the host program built (no flash/RAM budget to check)

    @property
    def fits(self) -> bool:
        return self.flash_used <= self.flash_max and self.ram_used <= self.ram_max

    def to_dict(self) -> dict:
        if self.program:
            return {"env": self.env, "board": "", "fits": True, "program": self.program}
        return {
            "env": self.env,
            "board": self.board,
            "fits": self.fits,
            "flash_used": self.flash_used,
            "flash_max": self.flash_max,
            "ram_used": self.ram_used,
            "ram_max": self.ram_max,
        }

    def __str__(self) -> str:
        from tinyflow.report import table

        if self.program:
            return f"Built env {self.env}: {self.program} (a program for this computer: no flash/RAM budget)"

        rows = [
            ["flash", self.flash_used, self.flash_max, f"{100 * self.flash_used / max(self.flash_max, 1):.1f}%"],
            ["ram (static)", self.ram_used, self.ram_max, f"{100 * self.ram_used / max(self.ram_max, 1):.1f}%"],
        ]
        return table(
            ["memory", "used B", "max B", "used"],
            rows,
            title=f"Size of env {self.env}{' on ' + self.board if self.board else ''}: "
            f"{'fits' if self.fits else 'does not fit'}",
        )

    def raise_if_not_fit(self) -> None:
        if self.fits:
            return
        over = [
            f"{k} uses {u:,} B of {m:,} B"
            for k, u, m in (("flash", self.flash_used, self.flash_max), ("RAM", self.ram_used, self.ram_max))
            if u > m
        ]
        raise BoardError(
            f"Firmware env {self.env} does not fit {self.board or 'the board'}: " + "; ".join(over),
            "Shrink the model (prune, fewer filters) or pick a board with more memory.",
        )


def parse_size(output: str, env: str, project: str | Path = ".") -> SizeReport:
    """The RAM/Flash usage lines PlatformIO prints after a build or `-t checkprogsize`.

    Raises:
        ToolchainError: the lines are missing (the build did not get that far).
    """
    found = {kind: (int(used), int(total)) for kind, used, total in _USAGE.findall(output)}
    if "Flash" not in found or "RAM" not in found:
        raise ToolchainError(
            f"PlatformIO printed no RAM/Flash usage for env {env}",
            f"Run `{pio_hint('run', '-d', project, '-e', env, '-t', 'checkprogsize', '-v')}` to see why.",
        )
    return SizeReport(
        env=env,
        flash_used=found["Flash"][0],
        flash_max=found["Flash"][1],
        ram_used=found["RAM"][0],
        ram_max=found["RAM"][1],
    )


def run_pio(project: str | Path, args: list[str], timeout: float) -> str:
    """Run `pio <args>` in `project`; returns its output, raises ToolchainError on failure/timeout."""
    cmd = [*pio_command(), *args, "-d", str(project)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_env_without_prompts())
    except subprocess.TimeoutExpired:
        raise ToolchainError(
            f"`pio {' '.join(args)}` took more than {timeout:.0f} s",
            f"Run `{pio_hint(*args, '-d', project)}` to see where it stops.",
        ) from None
    out = proc.stdout + proc.stderr
    if proc.returncode != 0:
        first = next((ln for ln in out.splitlines() if "error" in ln.lower()), out.strip()[-300:])
        raise ToolchainError(
            f"`pio {' '.join(args)}` failed: {first.strip()}",
            f"Run `{pio_hint(*args, '-d', project)}` for the full log.",
        )
    return out


def _env_without_prompts() -> dict:
    import os

    env = dict(os.environ)
    env.setdefault("PLATFORMIO_DISABLE_PROGRESSBAR", "true")
    env.setdefault("PLATFORMIO_NO_ANSI", "true")
    return env


def build_project(project: str | Path, env: str | None = None, timeout: float = BUILD_TIMEOUT_S) -> SizeReport:
    """`pio run -e ENV`, then the size it reports (checked against the board by the caller)."""
    spec = project_env(project, env)
    check_can_build(project, spec)
    out = run_pio(project, ["run", "-e", spec.name], timeout)
    if spec.is_native:  # PlatformIO prints no RAM/Flash usage for a host program, and there is no board
        return SizeReport(
            env=spec.name,
            flash_used=0,
            flash_max=0,
            ram_used=0,
            ram_max=0,
            program=str(Path(project) / ".pio" / "build" / spec.name / "program"),
        )
    return _with_board(
        parse_size(out, spec.name, project) if _USAGE.search(out) else size_project(project, spec.name, timeout)
    )


def size_project(project: str | Path, env: str | None = None, timeout: float = BUILD_TIMEOUT_S) -> SizeReport:
    """Flash and RAM of the (built) project from `pio run -t checkprogsize`.

    Raises:
        UsageError: env native (a host program has no flash/RAM budget).
    """
    spec = project_env(project, env)
    if spec.is_native:
        raise UsageError(
            f"Env {spec.name} builds a program for this computer, which has no flash/RAM budget to check",
            "Pass a board env with --env (the default is the board's).",
        )
    check_can_build(project, spec)
    out = run_pio(project, ["run", "-e", spec.name, "-t", "checkprogsize"], timeout)
    return _with_board(parse_size(out, spec.name, project))


def _with_board(report: SizeReport) -> SizeReport:
    from tinyflow.boards import load_board

    try:
        board = load_board(report.env)  # generated projects name the board env after the board id
    except BoardError:
        return report
    report.board, report.board_ram_usable = board.id, board.usable_ram_bytes
    return report


def detect_port(usb_ids, ports=None) -> str:
    """The one serial port whose USB VID:PID is the board's.

    Args:
        usb_ids: (vid, pid) pairs from the board file.
        ports: serial.tools.list_ports.comports() entries (tests pass fakes).

    Raises:
        LinkError: no such port (listing what is connected). UsageError: several.
    """
    if ports is None:
        from serial.tools import list_ports

        ports = list_ports.comports()
    wanted = {(int(v), int(p)) for v, p in usb_ids}
    hits = [p.device for p in ports if (p.vid, p.pid) in wanted]
    if not hits:
        seen = ", ".join(f"{p.device} ({p.vid or 0:04x}:{p.pid or 0:04x})" for p in ports) or "none"
        ids = ", ".join(f"{v:04x}:{p:04x}" for v, p in sorted(wanted)) or "none listed"
        raise LinkError(
            f"No board with USB id {ids} is connected (serial ports: {seen})",
            "Plug the board in (a data cable, not a charge-only one), or pass --port.",
        )
    if len(hits) > 1:
        raise UsageError(f"Several matching boards are connected: {', '.join(hits)}", "Pick one with --port.")
    return hits[0]


def check_port(port: str, opener=None) -> None:
    """Open and close `port` once so busy and permission problems are named before flashing.

    Raises:
        LinkError: missing, busy (another program holds it) or permission denied (dialout).
    """
    import serial

    opener = opener or (lambda p: serial.Serial(p, exclusive=True, timeout=0))
    try:
        opener(port).close()
    except (serial.SerialException, OSError) as exc:
        code = getattr(exc, "errno", None)
        text = str(exc)
        if code in (errno.EACCES, errno.EPERM) or "Permission denied" in text:
            raise LinkError(
                f"Permission denied opening {port}",
                "Add yourself to the dialout group (sudo usermod -aG dialout $USER) and log in again.",
            ) from None
        if code == errno.EBUSY or "busy" in text.lower() or "lock" in text.lower():
            raise LinkError(
                f"{port} is busy: another program (a serial monitor, ModemManager) holds it",
                "Close the other program and run again.",
            ) from None
        raise LinkError(f"Cannot open {port}: {text}", "Check the cable and the port name.") from None


def flash_project(
    project: str | Path, port: str | None = None, env: str | None = None, timeout: float = UPLOAD_TIMEOUT_S
) -> str:
    """Build if needed and upload; returns the port used."""
    from tinyflow.boards import load_board

    spec = project_env(project, env)
    check_can_build(project, spec, targets=("upload",))
    if port is None:
        port = detect_port(load_board(spec.name).usb_ids)
    check_port(port)
    run_pio(project, ["run", "-e", spec.name, "-t", "upload", "--upload-port", port], timeout + BUILD_TIMEOUT_S)
    return port


# The host pseudo-terminal buffers this much while the core computes (as tinyflow.build.host).
NATIVE_DEFINES = {"TINYFLOW_NATIVE": "1", "TINYFLOW_RX_QUEUE_BYTES": "16384"}


def build_native(project: str | Path, timeout: float = 300) -> Path:
    """Build a generated aot project's `native` env with the system compilers, as `pio run -e native`
    would (same sources, include dirs and forced config header), without PlatformIO's native
    platform. Returns the cached executable.

    Raises:
        UsageError: a tflm project (its TFLM library is downloaded by PlatformIO). ToolchainError: build failed.
    """
    import hashlib

    from tinyflow.build.cache import staging, touch
    from tinyflow.build.cc import cache_dir, find_compiler

    root = Path(project).resolve()
    libs = [root / "lib" / n for n in ("tinyflow_core", "tinyflow_model", "tinyflow_port_host")]
    if (root / "lib" / "tinyflow_model" / "src" / "model_tflm.cpp").exists():
        raise UsageError(
            f"{project} uses the tflm runtime, whose library only PlatformIO downloads",
            f"Use `{pio_hint('run', '-d', project, '-e', 'native')}`, or generate with --runtime aot.",
        )
    c_files = sorted(p for lib in libs for p in (lib / "src").rglob("*.c"))
    c_files += sorted((root / "src").glob("*.c"))  # the user's own (app mode's on_prediction.c), as pio builds them
    cxx_files = [root / "src" / "main.cpp"]
    incs = [f"-I{root / 'include'}", *(f"-I{lib / 'include'}" for lib in libs if (lib / "include").is_dir())]
    common = [
        "-O2",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-include",
        str(root / "include" / "tinyflow_config.h"),
        *incs,
        *(f"-D{k}={v}" for k, v in NATIVE_DEFINES.items()),
    ]
    h = hashlib.sha256(repr(common).encode())
    for p in [*c_files, *cxx_files, *sorted(root.rglob("*.h"))]:
        h.update(str(p.relative_to(root)).encode() + p.read_bytes())
    out_dir = cache_dir() / f"native-{h.hexdigest()[:24]}"
    exe = out_dir / "program"
    if exe.exists():
        touch(out_dir)
        return exe
    cc, cxx = find_compiler("cc"), find_compiler("c++")
    with staging(out_dir) as tmp:
        objs = []
        for i, src in enumerate([*c_files, *cxx_files]):
            obj = tmp / f"{i}_{src.stem}.o"
            std = ["-std=c99"] if src.suffix == ".c" else ["-std=c++17"]
            _compile([cc if src.suffix == ".c" else cxx, *std, *common, "-c", str(src), "-o", str(obj)], timeout)
            objs.append(str(obj))
        _compile([cxx, *objs, "-o", str(tmp / "program"), "-lm"], timeout)
    return exe


def _compile(cmd: list[str], timeout: float) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ToolchainError(
            f"{Path(cmd[0]).name} took more than {timeout:.0f} s", "Check the machine's load."
        ) from None
    if proc.returncode != 0:
        first = next((ln for ln in proc.stderr.splitlines() if "error" in ln), proc.stderr.strip()[:300])
        raise ToolchainError(
            f"{Path(cmd[0]).name} failed on a generated project: {first}",
            "This is a tinyflow bug; please report it with the model.",
        )
