"""The copy-me port (firmware/ports/template) and the weak HAL defaults: a port needs only
read, write and ticks; the shared device loop (firmware/src/run.c) does the rest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import require_tool
from tinyflow.build.cc import CBuild, build_executable
from tinyflow.resources import firmware_dir
from tinyflow.targets.client import DeviceClient
from tinyflow.targets.machines.host import ProcessPort

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "targets"))
from fake_runtime import fake_outputs  # noqa: E402

pytestmark = pytest.mark.firmware

FW = firmware_dir()
STRICT = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic"]
FAKE = {"FAKE_IN0_BYTES": 490, "FAKE_OUT_BYTES": 12}


def _core() -> list[Path]:
    return sorted((FW / "src").glob("*.c"))


def _build(sources, compiler: str, name: str, eembc: bool = False) -> Path:
    defines = {**FAKE, "TINYFLOW_PROTOCOL_EEMBC": int(eembc)}
    build = CBuild(
        sources=[*_core(), *sources, FW / "tests" / "fake_model.c"],
        include_dirs=[FW / "include"],
        defines=defines,
        cflags=STRICT,
        compiler=compiler,
    )
    return build_executable(build, f"{name}-{Path(compiler).name}{'-eembc' if eembc else ''}")


@pytest.mark.parametrize("compiler", ["cc", "clang"])
@pytest.mark.parametrize("eembc", [False, True])
def test_the_template_port_compiles_and_links_as_is(compiler, eembc):
    path = require_tool(compiler)
    exe = _build(sorted((FW / "ports" / "template").glob("*.c")), path, "port-template", eembc)
    assert exe.is_file()


def test_the_template_readme_names_every_hal_function_it_must_implement():
    readme = (FW / "ports" / "template" / "README.md").read_text()
    hal = (FW / "ports" / "template" / "hal.c").read_text()
    for fn in ("tinyflow_hal_read", "tinyflow_hal_write", "tinyflow_hal_ticks"):
        assert fn in readme and f"{fn}(" in hal
    assert "TODO" in hal


@pytest.mark.arm
def test_weak_defaults_link_with_arm_none_eabi_gcc(tmp_path):
    """The template links for a Cortex-M4 and takes the optional functions from the weak defaults."""
    gcc = require_tool("arm-none-eabi-gcc")
    elf = tmp_path / "template.elf"
    cmd = [
        gcc,
        *STRICT,
        "-mcpu=cortex-m4",
        "-mthumb",
        "--specs=nosys.specs",
        f"-I{FW / 'include'}",
        *map(str, [*_core(), *sorted((FW / "ports" / "template").glob("*.c")), FW / "tests" / "fake_model.c"]),
        "-o",
        str(elf),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    nm = subprocess.run([gcc.replace("gcc", "nm"), str(elf)], capture_output=True, text=True, timeout=60).stdout
    kinds = {line.split()[-1]: line.split()[-2] for line in nm.splitlines() if "tinyflow_hal_" in line}
    assert kinds["tinyflow_hal_read"] == "T" and kinds["tinyflow_hal_ticks_per_second"] == "W"


@pytest.mark.parametrize("compiler", ["cc", "clang"])
def test_a_port_with_only_read_write_ticks_serves_the_protocol(compiler):
    path = require_tool(compiler)
    exe = _build([FW / "tests" / "minimal_hal.c"], path, "port-minimal")
    with ProcessPort([exe], timeout=2.0, boot_count=7) as port:
        client = DeviceClient(port)
        info = client.handshake()
        assert info.boot_count == 7 and info.ticks_per_second == 1_000_000  # --boot, the default rate
        x = np.random.default_rng(1).integers(-128, 128, (1, 490), dtype=np.int8)
        assert client.infer(x).raw == fake_outputs(x.tobytes())
        assert client.stats().stack_high_water == 0  # the default: unknown


def test_generated_projects_carry_the_shared_loop_and_no_second_port_header(tmp_path):
    """main.cpp is setup()/loop() over tinyflow_device_start()/step(): the loop lives in the core,
    and every port function is declared in tinyflow/hal.h."""
    from conftest import corpus_path
    from tinyflow.export.platformio import generate_project

    root = tmp_path / "fw"
    generate_project(corpus_path("tflm/hello_world_int8.tflite"), "nano33ble", "aot", root)
    assert {"run.c", "hal_defaults.c"} <= {p.name for p in (root / "lib/tinyflow_core/src").iterdir()}
    assert not list(root.rglob("tinyflow_port.h"))
    main = (root / "src/main.cpp").read_text()
    assert "tinyflow_device_step()" in main and "tinyflow_device_poll" not in main and "for (;;)" not in main
    for port in ("arduino", "host"):
        assert (root / f"lib/tinyflow_port_{port}/include/tinyflow_port_impl.h").is_file()
