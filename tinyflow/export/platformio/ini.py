"""platformio.ini of a generated project, and the TFLM library pinned for each board. Pure: text out.

Why one library for every board (docs/tflm-library.md): Arduino_TensorFlowLite, the TFLM team's
own Arduino export, is plain C++ with CMSIS-NN kernels whose portable C paths build on any core
(Cortex-M0+ to Xtensa); pinning one commit means one API for the generated glue to match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tinyflow.boards import Board
from tinyflow.errors import BoardError
from tinyflow.escaping import ini_value, text_line

# Pinned by commit: the repository publishes no release tags and no registry package; this is its
# last sync from tflite-micro (2023-02-27) plus README changes. The glue was compile-checked
# against this exact tree (docs/tflm-library.md says how).
TFLM_LIBRARY_NAME = "Arduino_TensorFlowLite"
TFLM_LIBRARY_COMMIT = "7948b85e020470a30a83bf00e10fc43b486bfcba"
TFLM_LIBRARY = (
    f"{TFLM_LIBRARY_NAME}=https://github.com/tensorflow/tflite-micro-arduino-examples.git#{TFLM_LIBRARY_COMMIT}"
)

# The library's library.properties says depends=ArduinoBLE,Arduino_LSM9DS1 (for its examples on the
# Nano 33 BLE Sense). PlatformIO downloads them with it; nothing tinyflow builds uses them, so the
# envs ignore them and the LDF (mode chain) never builds them.
TFLM_LIBRARY_UNUSED_DEPENDS = ("ArduinoBLE", "Arduino_LSM9DS1")

# Dev-platform releases the generated projects are pinned to (a newer platform can bring a new core
# and toolchain under the same project). Source: each platform's latest release tag on GitHub
# (github.com/platformio/platform-<name>/tags) when this table was last updated: nordicnrf52
# v10.11.0, espressif32 v6.13.0 and raspberrypi v1.19.0 (2026-02-26), ststm32 v19.6.0
# (2026-04-28), native v1.2.1 (2022-05-28). A board file that already pins a version keeps it.
PLATFORM_VERSIONS = {
    "nordicnrf52": "10.11.0",
    "espressif32": "6.13.0",
    "raspberrypi": "1.19.0",
    "ststm32": "19.6.0",
    "native": "1.2.1",
}

CORE_LIB, MODEL_LIB = "tinyflow_core", "tinyflow_model"
PORT_LIBS = {"arduino": "tinyflow_port_arduino", "host": "tinyflow_port_host"}
USER_INI = "platformio_user.ini"  # never generated: the user's own settings, merged by PlatformIO
_BOARD_KEYS = ("platform", "board", "framework")
_INI_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\Z")


@dataclass(frozen=True)
class IniOptions:
    """What varies between generated platformio.ini files."""

    banner: str  # raw text: render_ini escapes it
    board: Board
    runtime: str  # "tflm" or "aot"
    native: bool = True  # add the host `native` env


def env_name(board: Board) -> str:
    return board.id


def pinned_platform(platform: str) -> str:
    """`name@version` from PLATFORM_VERSIONS; a spec that already has a version (or is unknown) as is."""
    if "@" in platform or platform not in PLATFORM_VERSIONS:
        return platform
    return f"{platform}@{PLATFORM_VERSIONS[platform]}"


def render_ini(opts: IniOptions) -> str:
    """The whole platformio.ini text."""
    b = opts.board
    missing = [k for k in _BOARD_KEYS if not b.platformio.get(k)]
    if missing:
        raise BoardError(
            f"Board {b.id} has no PlatformIO {', '.join(missing)} in its [platformio] table",
            f"Add them to {b.path or b.id + '.toml'} (see docs/boards.md).",
        )
    _check_board_values(b)
    lines = [
        f"; {text_line(opts.banner, limit=None)}",
        f"; Your own settings (upload_port, extra build_flags, ...) go in {USER_INI}: it is never overwritten.",
        "",
        "[platformio]",
        f"default_envs = {env_name(b)}",
        f"extra_configs = {USER_INI}",
        "",
        "[env]",
        "; The generated configuration (board id, clock, baud, buffer sizes) reaches every library too.",
        "build_flags = -include include/tinyflow_config.h",
        "lib_ldf_mode = chain",
        "",
    ]
    lines += _board_env(opts)
    if opts.native:
        lines += [""] + _native_env(opts)
    return "\n".join(lines) + "\n"


def _check_board_values(b: Board) -> None:
    """Board files are data too: an id, key or value INI would read differently is refused."""
    for key, value in [("id", b.id), *b.platformio.items()]:
        if not _INI_KEY.match(str(key)) or ini_value(str(value)) != str(value):
            raise BoardError(
                f"Board {b.id!r} has {key} = {str(value)!r}, which cannot be written to platformio.ini "
                "as one plain value",
                f"Fix {b.path or b.id + '.toml'} (see docs/boards.md).",
            )


def _board_env(opts: IniOptions) -> list[str]:
    b = opts.board
    out = [f"[env:{env_name(b)}]"]
    out += [f"platform = {pinned_platform(b.platformio['platform'])}"]
    out += [f"{k} = {b.platformio[k]}" for k in _BOARD_KEYS if k != "platform"]
    out += [f"{k} = {v}" for k, v in b.platformio.items() if k not in _BOARD_KEYS]
    out += [f"monitor_speed = {b.baud}"]
    if opts.runtime == "tflm":
        out += [f"lib_ignore = {', '.join([PORT_LIBS['host'], *TFLM_LIBRARY_UNUSED_DEPENDS])}"] + _tflm_lines()
    else:
        out += [f"lib_ignore = {PORT_LIBS['host']}"]
    return out


def _tflm_lines() -> list[str]:
    # The pre-script drops the library's Nano-only parts and compiles it with -fno-exceptions.
    return ["lib_deps =", f"    {TFLM_LIBRARY}", "extra_scripts = pre:tinyflow_build.py"]


def _native_env(opts: IniOptions) -> list[str]:
    out = [
        "; The same firmware on this computer (host port on stdin/stdout): `pio run -e native`.",
        "[env:native]",
        f"platform = {pinned_platform('native')}",
        "build_flags = ${env.build_flags} -DTINYFLOW_NATIVE=1 -DTINYFLOW_RX_QUEUE_BYTES=16384",
    ]
    if opts.runtime != "tflm":
        return out + [f"lib_ignore = {PORT_LIBS['arduino']}"]
    # The pinned library is exported for Arduino and only builds with ARDUINO defined (its
    # CMSIS-NN kernel variants are inline stubs otherwise, clashing with their definitions).
    out[-1] += " -DARDUINO=100"
    # Its manifest declares the arduino framework, which `native` lacks: without this the LDF
    # drops it as incompatible and nothing of TFLM is built.
    out += ["lib_compat_mode = off", f"lib_ignore = {', '.join([PORT_LIBS['arduino'], *TFLM_LIBRARY_UNUSED_DEPENDS])}"]
    return out + _tflm_lines()
