"""The package formats (cmake, esp-idf, zephyr, arduino-library) carry the sidecar's front end as
generated PlatformIO projects and the compiled-C folder do: the plan, pipeline.c under the
model's names (<name>_pipeline_*), the front end C; a host program linking two such packages
computes the host's features and the reference's outputs from raw audio."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile

import numpy as np
import pytest

from conftest import corpus_path, require_tool
from tinyflow.export import export_model
from tinyflow.frontends import MfccConfig, MicroSpeechConfig, write_sidecar
from tinyflow.workflows.eval_data import TensorSpec
from tinyflow.workflows.eval_raw import host_model_input

SPEC = TensorSpec("in", (1, 1960), np.dtype(np.int8), 0.10171568393707275, -128)
FORMATS = ("cmake", "esp-idf", "zephyr", "arduino-library")


def _model(tmp_path, name: str, config):
    path = tmp_path / f"{name}.tflite"
    shutil.copyfile(corpus_path("tflm/micro_speech_quantized.tflite"), path)
    if config is not None:
        write_sidecar(path, config)
    return path


def _files(out, fmt: str, name: str) -> dict[str, bytes]:
    if fmt != "arduino-library":
        return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with zipfile.ZipFile(io.BytesIO((out / f"{name}.zip").read_bytes())) as z:
        return {n.split("/", 1)[1]: z.read(n) for n in z.namelist()}


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_carries_the_front_end(tmp_path, fmt):
    model = _model(tmp_path, "kws", MicroSpeechConfig())
    report = export_model(model, fmt, tmp_path / "out", name="kws")
    files = _files(tmp_path / "out", fmt, "kws")
    src = "src/"
    head = "include/" if fmt != "arduino-library" else "src/"  # the library flattens include/ into src/
    plan = files[f"{src}kws_frontend_plan.c"].decode()
    assert "const tinyflow_pipeline_plan_t kws_pipeline_plan" in plan and "tf_pipeline_raw[16000]" in plan
    assert "static const tinyflow_micro_speech_plan_t tf_pipeline_frontend" in plan  # file-local
    wrapper = files[f"{src}kws_pipeline.c"].decode()
    assert "#define TINYFLOW_FRONTEND_KIND 1" in wrapper and "#define tinyflow_model_invoke kws_model_invoke" in wrapper
    assert {f"{src}frontends/micro_speech.c", f"{src}frontends/fft_q15.c", f"{src}frontends/fixed.c"} <= set(files)
    assert f"{src}frontends/mfcc.c" not in files  # only what it runs
    assert "kws_pipeline_invoke(uint32_t *op_ticks);" in files[f"{head}kws_pipeline.h"].decode()
    assert f"{head}tinyflow/frontend_micro_speech.h" in files
    assert report.to_dict()["frontend"] == "micro_speech" and "kws_pipeline_*()" in str(report)
    build = {"cmake": "CMakeLists.txt", "esp-idf": "CMakeLists.txt", "zephyr": "CMakeLists.txt"}.get(fmt)
    if build:  # the build compiles the plan, the wrapper and the front end C
        text = files[build].decode()
        assert all(p in text for p in ("src/kws_frontend_plan.c", "src/kws_pipeline.c", "src/frontends/fixed.c"))
    if fmt == "zephyr":  # shared objects go to the plain archive, not the whole-archive zephyr library
        kernels = files["CMakeLists.txt"].decode().split("add_library(tinyflow_kws_kernels STATIC")[1]
        assert "src/frontends/micro_speech.c" in kernels and "kws_pipeline.c" not in kernels


def test_without_a_sidecar_nothing_of_the_front_end(tmp_path):
    model = _model(tmp_path, "kws", None)
    report = export_model(model, "cmake", tmp_path / "out", name="kws")
    files = _files(tmp_path / "out", "cmake", "kws")
    ours = [f for f in files if ("frontend" in f or "pipeline" in f) and not f.startswith("include/tinyflow/")]
    assert ours == [] and report.sources.frontend is None  # (the aot package ships every core header)


def _deploy_helpers():
    """tests/export/deploy_helpers.py (the package formats' own test helpers), loaded by path."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "export" / "deploy_helpers.py"
    spec = importlib.util.spec_from_file_location("deploy_helpers_for_frontends", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.firmware
def test_cmake_packages_of_two_front_ends_link_into_one_program_and_match_the_host(tmp_path):
    """micro_speech and mfcc packages in one program: each device pipeline computes the host
    front end's features bit for bit, and the model outputs the reference's on them."""
    h = _deploy_helpers()
    require_tool("cmake")
    configs = {"kws": MicroSpeechConfig(), "kwm": MfccConfig()}
    for name, config in configs.items():
        export_model(_model(tmp_path, name, config), "cmake", tmp_path / name, name=name)
    app = tmp_path / "app"
    app.mkdir()
    apis = [f"{n}_pipeline" for n in configs]
    (app / "main.c").write_text(h.host_main(apis, [f"{a}.h" for a in apis]))
    subdirs = "".join(f"add_subdirectory({tmp_path / n} {n})\n" for n in configs)
    (app / "CMakeLists.txt").write_text(
        f"cmake_minimum_required(VERSION 3.13)\nproject(app C)\n{subdirs}add_executable(app main.c)\n"
        "target_link_libraries(app PRIVATE tinyflow::kws tinyflow::kwm)\n"
    )
    h.cmake_build(app, tmp_path / "build")
    rng = np.random.default_rng(5)
    from tinyflow.frontends.mapping import raw_window_frames

    args, want = [], {}
    for name, config in configs.items():
        n = raw_window_frames(config, SPEC.shape)  # 16,000 (49 micro_speech rows), 63,040 (196 mfcc rows)
        audio = [rng.normal(0, 3000, (n, 1)).astype(np.int16) for _ in range(2)]
        h.write_samples([[a] for a in audio], tmp_path / f"{name}.in")
        features = [host_model_input(config, SPEC, a) for a in audio]
        model = tmp_path / f"{name}.tflite"
        outputs = h.tflm_outputs(model, [[f] for f in features])
        want[name] = b"".join(outputs[k * 4 : k * 4 + 4] + features[k].tobytes() for k in range(2))
        args += [tmp_path / f"{name}.in", tmp_path / f"{name}.out"]
    h.run([tmp_path / "build" / "app", 2, *args])
    for name in configs:
        assert (tmp_path / f"{name}.out").read_bytes() == want[name], name


@pytest.mark.firmware
def test_arduino_library_sources_compile(tmp_path):
    """The library's C (flattened into src/, as the IDE builds it) compiles warning-free."""
    cc = require_tool("cc")
    model = _model(tmp_path, "kws", MicroSpeechConfig())
    export_model(model, "arduino-library", tmp_path / "out", name="kws")
    with zipfile.ZipFile(tmp_path / "out" / "kws.zip") as z:
        z.extractall(tmp_path / "lib")
    src = tmp_path / "lib" / "kws" / "src"
    sources = sorted(p for p in src.rglob("*.c"))
    assert src / "kws_pipeline.c" in sources and src / "frontends" / "micro_speech.c" in sources
    for path in sources:
        cmd = [cc, "-std=c99", "-Wall", "-Wextra", "-Werror", f"-I{src}", "-c", str(path), "-o", str(tmp_path / "x.o")]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, (path.name, proc.stderr)


def test_a_tflm_package_keeps_the_model_s_own_names(tmp_path):
    """--runtime tflm keeps the tinyflow_model_* names (one TFLM model a program): the wrapper
    renames only the pipeline's, and ships the headers pipeline.c includes."""
    model = _model(tmp_path, "kws", MicroSpeechConfig())
    export_model(model, "cmake", tmp_path / "out", name="kws", runtime="tflm")
    files = _files(tmp_path / "out", "cmake", "kws")
    wrapper = files["src/kws_pipeline.c"].decode()
    assert (
        "#define tinyflow_pipeline_invoke kws_pipeline_invoke" in wrapper and "#define tinyflow_model_" not in wrapper
    )
    assert {"include/tinyflow/pipeline.h", "include/tinyflow/config.h", "include/tinyflow/frontend.h"} <= set(files)
    assert "src/kws_pipeline.c" in files["CMakeLists.txt"].decode()
