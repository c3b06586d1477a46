"""Build the host-port firmware (protocol core + a model + firmware/ports/host), cached.

The model is either a compiled model (tinyflow.compile.CompiledModel: generated C + kernels) or
the fake runtime of firmware/tests/fake_model.c (protocol tests, fuzzing). Builds are cached by
the content hash of every input (tinyflow.build.cc); `sanitize=True` adds ASan/UBSan.
"""

from __future__ import annotations

from pathlib import Path

from tinyflow.build.cc import CBuild, build_executable, stage_sources
from tinyflow.resources import firmware_dir

HOST_RX_QUEUE_BYTES = 16384  # the pseudo-terminal buffers this much while the core is busy


def core_sources() -> list[Path]:
    """The portable core: firmware/src/*.c."""
    return sorted((firmware_dir() / "src").glob("*.c"))


def port_sources() -> list[Path]:
    return sorted((firmware_dir() / "ports" / "host").glob("*.c"))


def fake_model_source() -> Path:
    return firmware_dir() / "tests" / "fake_model.c"


def host_build(
    model_sources: list[Path],
    *,
    defines: dict | None = None,
    sanitize: bool = False,
    eembc: bool = False,
    compiler: str = "cc",
    optimize: str = "-O2",
) -> CBuild:
    """The CBuild of a host firmware around `model_sources` (pure: nothing is compiled)."""
    d = {"TINYFLOW_BOARD_ID": '"host"', "TINYFLOW_RX_QUEUE_BYTES": HOST_RX_QUEUE_BYTES}
    if eembc:
        d["TINYFLOW_PROTOCOL_EEMBC"] = 1
    d.update(defines or {})
    return CBuild(
        sources=[*core_sources(), *port_sources(), *model_sources],
        include_dirs=[firmware_dir() / "include"],
        defines=d,
        cflags=["-std=c99", optimize, "-Wall", "-Wextra", "-Werror"],
        ldflags=["-lm"],
        compiler=compiler,
        sanitize=sanitize,
    )


def build_host_firmware(
    compiled=None,
    *,
    fake: dict | None = None,
    sanitize: bool = False,
    eembc: bool = False,
    defines: dict | None = None,
    name: str | None = None,
) -> Path:
    """Compile the host firmware; returns the cached executable.

    Args:
        compiled: a CompiledModel; when None the fake model is linked, sized by `fake`
            (keys FAKE_IN0_BYTES, FAKE_IN1_BYTES, FAKE_OUT_BYTES, FAKE_DELAY_US).
        sanitize: ASan/UBSan build (tests).
        eembc: the MLPerf Tiny / EEMBC text protocol instead of tinyflow frames.
        defines: extra -D overrides (TINYFLOW_RX_BYTES, TINYFLOW_CPU_HZ, ...).
    """
    d = dict(defines or {})
    if compiled is None:
        sources = [fake_model_source()]
        d.update(fake or {})
        label = "fake"
    else:
        sources = stage_sources(compiled.sources, "host-model-src")
        sources += [Path(p) for p in compiled.kernel_sources()]
        label = compiled.name
    build = host_build(sources, defines=d, sanitize=sanitize, eembc=eembc)
    suffix = ("-eembc" if eembc else "") + ("-san" if sanitize else "")
    return build_executable(build, name or f"tinyflow-host-{label}{suffix}")
