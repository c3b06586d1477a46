"""The cmake format builds: find_package from an install prefix on the host (bit-exact with TFLM),
and with its arm-none-eabi toolchain file for Cortex-M4 (the DSP kernels) and Cortex-M0+ (the
portable C), from the same package."""

from __future__ import annotations

import subprocess

import pytest
from deploy_helpers import cmake_build, host_main, random_samples, run, tflm_outputs, write_samples

from conftest import corpus_path, require_tool
from tinyflow.export import export_model

KWS = "tflm/micro_speech_quantized.tflite"

pytestmark = pytest.mark.firmware


def test_find_package_from_an_install_prefix_runs_bit_exact(tmp_path):
    model = corpus_path(KWS)
    export_model(model, "cmake", tmp_path / "pkg", name="kws")
    cmake_build(tmp_path / "pkg", tmp_path / "pkg-build")
    run(["cmake", "--install", tmp_path / "pkg-build", "--prefix", tmp_path / "prefix"])
    assert (tmp_path / "prefix/include/kws/kws_model.h").exists()
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.c").write_text(host_main(["kws_model"], ["kws_model.h"]))
    (app / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(app C)\nfind_package(kws CONFIG REQUIRED)\n"
        "add_executable(app main.c)\ntarget_link_libraries(app PRIVATE tinyflow::kws)\n"
    )
    cmake_build(app, tmp_path / "build", f"-DCMAKE_PREFIX_PATH={tmp_path / 'prefix'}")
    samples = random_samples(model, 4, 7)
    write_samples(samples, tmp_path / "in")
    run([tmp_path / "build" / "app", 4, tmp_path / "in", tmp_path / "out"])
    assert (tmp_path / "out").read_bytes() == tflm_outputs(model, samples)


def _disassembly(archive) -> str:
    res = subprocess.run(["arm-none-eabi-objdump", "-d", str(archive)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout


@pytest.mark.parametrize(
    "cpu, dsp", [("cortex-m4", True), ("cortex-m0plus", False), ("cortex-m33", True), ("cortex-m33+nodsp", False)]
)
def test_the_toolchain_file_cross_builds_the_package_for_cortex_m(tmp_path, cpu, dsp):
    require_tool("arm-none-eabi-gcc")
    export_model(corpus_path(KWS), "cmake", tmp_path / "pkg", name="kws")
    toolchain = tmp_path / "pkg/cmake/arm-none-eabi.cmake"
    cmake_build(tmp_path / "pkg", tmp_path / "build", f"-DCMAKE_TOOLCHAIN_FILE={toolchain}", f"-DTINYFLOW_CPU={cpu}")
    archive = tmp_path / "build/libtinyflow_kws.a"
    text = _disassembly(archive)
    assert "<kws_model_invoke>:" in text and "<tinyflow_model_invoke>:" not in text
    # The kernels' guard picked the DSP variant (SMLAD) only where the core has the extension
    # (GCC's cortex-m33 has it unless +nodsp).
    assert ("smlad" in text) is dsp
