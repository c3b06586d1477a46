"""platformio.ini of a generated project, and the TFLM library pinned for each board. Pure: text out.

Why one library for every board (docs/tflm-library.md): Arduino_TensorFlowLite, the TFLM team's
own Arduino export, is plain C++ with CMSIS-NN kernels whose portable C paths build on any core
(Cortex-M0+ to Xtensa); pinning one commit means one API for the generated glue to match.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinyflow.boards import Board

# Pinned by commit: the repository publishes no release tags and no registry package; this is its
# last sync from tflite-micro (2023-02-27) plus README changes. The glue was compile-checked
# against this exact tree (docs/tflm-library.md says how).
TFLM_LIBRARY_NAME = "Arduino_TensorFlowLite"
TFLM_LIBRARY_COMMIT = "7948b85e020470a30a83bf00e10fc43b486bfcba"
TFLM_LIBRARY = (f"{TFLM_LIBRARY_NAME}=https://github.com/tensorflow/tflite-micro-arduino-examples.git"
                f"#{TFLM_LIBRARY_COMMIT}")

CORE_LIB, MODEL_LIB = "tinyflow_core", "tinyflow_model"
PORT_LIBS = {"arduino": "tinyflow_port_arduino", "host": "tinyflow_port_host"}
USER_INI = "platformio_user.ini"  # never generated: the user's own settings, merged by PlatformIO
_BOARD_KEYS = ("platform", "board", "framework")


@dataclass(frozen=True)
class IniOptions:
    """What varies between generated platformio.ini files."""

    banner: str
    board: Board
    runtime: str            # "tflm" or "aot"
    native: bool = True     # add the host `native` env


def env_name(board: Board) -> str:
    return board.id


def render_ini(opts: IniOptions) -> str:
    """The whole platformio.ini text."""
    b = opts.board
    missing = [k for k in _BOARD_KEYS if not b.platformio.get(k)]
    if missing:
        from tinyflow.errors import BoardError

        raise BoardError(f"Board {b.id} has no PlatformIO {', '.join(missing)} in its [platformio] table",
                         f"Add them to {b.path or b.id + '.toml'} (see docs/boards.md).")
    lines = [f"; {opts.banner}",
             f"; Your own settings (upload_port, extra build_flags, ...) go in {USER_INI}: it is never overwritten.",
             "", "[platformio]", f"default_envs = {env_name(b)}", f"extra_configs = {USER_INI}", "",
             "[env]",
             "; The generated configuration (board id, clock, baud, buffer sizes) reaches every library too.",
             "build_flags = -include include/tinyflow_config.h", "lib_ldf_mode = chain", ""]
    lines += _board_env(opts)
    if opts.native:
        lines += [""] + _native_env(opts)
    return "\n".join(lines) + "\n"


def _board_env(opts: IniOptions) -> list[str]:
    b = opts.board
    out = [f"[env:{env_name(b)}]"]
    out += [f"{k} = {b.platformio[k]}" for k in _BOARD_KEYS]
    out += [f"{k} = {v}" for k, v in b.platformio.items() if k not in _BOARD_KEYS]
    out += [f"monitor_speed = {b.baud}", f"lib_ignore = {PORT_LIBS['host']}"]
    if opts.runtime == "tflm":
        out += ["lib_deps =", f"    {TFLM_LIBRARY}", "extra_scripts = pre:tinyflow_build.py"]
    return out


def _native_env(opts: IniOptions) -> list[str]:
    out = ["; The same firmware on this computer (host port on stdin/stdout): `pio run -e native`.",
           "[env:native]", "platform = native", f"lib_ignore = {PORT_LIBS['arduino']}",
           "build_flags = ${env.build_flags} -DTINYFLOW_NATIVE=1 -DTINYFLOW_RX_QUEUE_BYTES=16384"]
    if opts.runtime == "tflm":
        # The pinned library is exported for Arduino and only builds with ARDUINO defined (its
        # CMSIS-NN kernel variants are inline stubs otherwise, clashing with their definitions).
        out[-1] += " -DARDUINO=100 -fno-exceptions"  # as Arduino toolchains: TFLM's placement news need it
        out += ["lib_deps =", f"    {TFLM_LIBRARY}", "extra_scripts = pre:tinyflow_build.py"]
    return out
