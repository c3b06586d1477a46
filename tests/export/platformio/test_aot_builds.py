"""aot projects: their sources compile warning-free for Cortex-M4, and their native build answers
the protocol with outputs identical to the TFLite Micro reference runtime."""

import subprocess

import numpy as np
import pytest

from conftest import require_tool
from tinyflow.export.platformio import generate_project
from tinyflow.tflite import read_model

M4 = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]


def _project(model, tmp_path, board="nucleo_l4r5zi"):
    out = tmp_path / "fw"
    generate_project(model, board, "aot", out)
    return out


@pytest.mark.arm
def test_aot_project_compiles_for_cortex_m4_with_werror(corpus_model, tmp_path):
    gcc, gxx = require_tool("arm-none-eabi-gcc"), require_tool("arm-none-eabi-g++")
    root = _project(corpus_model, tmp_path)
    incs = [
        "-include",
        str(root / "include/tinyflow_config.h"),
        f"-I{root / 'lib/tinyflow_core/include'}",
        f"-I{root / 'lib/tinyflow_model/include'}",
        f"-I{root / 'lib/tinyflow_port_host/include'}",
    ]
    flags = [*M4, "-O2", "-Wall", "-Wextra", "-Werror", "-ffunction-sections", "-fdata-sections", *incs]
    sources = sorted((root / "lib/tinyflow_core/src").glob("*.c")) + sorted(
        (root / "lib/tinyflow_model/src").rglob("*.c")
    )
    assert any(p.parent.name == "kernels" for p in sources)
    objs = []
    for i, src in enumerate(sources):
        obj = tmp_path / f"{i}.o"
        proc = subprocess.run(
            [gcc, "-std=c99", *flags, "-c", str(src), "-o", str(obj)], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, (src.name, proc.stderr)
        objs.append(obj)
    # main.cpp's native branch (the Arduino branch needs an Arduino core, which PlatformIO provides)
    proc = subprocess.run(
        [gxx, "-std=c++17", *flags, "-c", str(root / "src/main.cpp"), "-o", str(tmp_path / "main.o")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.firmware
@pytest.mark.parametrize(
    "rel",
    ["tflm/micro_speech_quantized.tflite", "mlperf_tiny/kws_ref_model.tflite", "tflm/keyword_scrambled_8bit.tflite"],
)
def test_native_build_of_an_aot_project_matches_tflm(rel, tmp_path):
    from conftest import corpus_path
    from tinyflow.build.platformio import build_native
    from tinyflow.runtimes import tflm
    from tinyflow.targets.client import DeviceClient
    from tinyflow.targets.machines.host import ProcessPort

    require_tool("cc")
    model = corpus_path(rel)
    m = read_model(model)
    exe = build_native(_project(model, tmp_path, board="nano33ble"))
    rng = np.random.default_rng(5)
    samples = []
    for _ in range(4):
        sample = []
        for i in m.inputs:
            t = m.tensors[i]
            info = np.iinfo(t.dtype)
            sample.append(rng.integers(info.min, info.max + 1, size=t.shape, dtype=t.dtype))
        samples.append(sample)
    expected = tflm.run(m.data, samples)
    with ProcessPort([exe], timeout=5.0) as port:
        client = DeviceClient(port, timeout=5.0)
        info = client.handshake()
        assert (info.board_id, info.runtime, info.model_name) == ("nano33ble", "aot", model.stem)
        results = list(client.infer_many([s if len(s) > 1 else s[0] for s in samples]))
    for got, want in zip(results, expected):
        for g, w in zip(got.outputs, want):
            assert np.array_equal(np.asarray(g).reshape(-1), np.asarray(w).reshape(-1))


@pytest.mark.arm
@pytest.mark.qemu
def test_nano33ble_aot_project_runs_the_kernels_sim_qemu_profiles(tmp_path):
    """A generated nano33ble project ships the Cortex-M4 kernel variants: its own sources, built
    for the emulated board, count the same instructions as `profile --target sim://qemu-m4`."""
    from conftest import corpus_path
    from tinyflow.build import arm
    from tinyflow.build.firmware import board_budget, memory_map, port_defines
    from tinyflow.targets.client import DeviceClient
    from tinyflow.targets.machines import qemu_m4 as sim_qemu
    from tinyflow.workflows.device import open_device
    from tinyflow.workflows.profile import random_inputs

    require_tool(arm.COMPILER)
    require_tool(sim_qemu.QEMU)
    model = corpus_path("mlperf_tiny/kws_ref_model.tflite")
    root = _project(model, tmp_path, board="nano33ble")
    lib = root / "lib/tinyflow_model/src"
    assert {"conv_2d.inc", "depthwise_conv_2d.inc", "simd.h"} <= {p.name for p in (lib / "kernels/cortex_m4").iterdir()}
    budget = board_budget("nano33ble")
    sources = [
        *sorted(lib.rglob("*.c")),
        *sorted((root / "lib/tinyflow_core/src").glob("*.c")),
        arm.port_dir() / "main.c",
    ]
    project_fw = arm.build_firmware(
        sources,
        memory_map(budget),
        include_dirs=[lib, root / "lib/tinyflow_core/src"],
        defines=port_defines(budget, sim_qemu.ticks_per_second_for(budget.clock_hz)),
        name="project-kws",
    )

    def count(port):
        with port:
            client = DeviceClient(port)
            result = client.infer(random_inputs(client.handshake(), np.random.default_rng(3)))
            return sim_qemu.instructions(result.ticks), [np.asarray(o).tolist() for o in result.outputs]

    emulation = sim_qemu.Emulation(
        elf=project_fw.elf, memory=project_fw.memory, board="nano33ble", clock_hz=budget.clock_hz
    )
    from_project = count(sim_qemu.QemuPort(project_fw.elf, timeout=10.0, emulation=emulation))
    profiled = count(open_device("sim://qemu-m4?board=nano33ble", model=model.read_bytes(), timeout=10.0))
    portable = count(
        open_device("sim://qemu-m4?board=nano33ble&kernels=portable", model=model.read_bytes(), timeout=10.0)
    )
    assert from_project == profiled
    assert portable[1] == profiled[1] and portable[0] > 1.5 * profiled[0]  # the variants are really in
