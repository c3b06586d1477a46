"""The arduino-library, esp-idf and zephyr formats follow their build system's rules (checked without
the build system), and build on the host through stand-ins of the functions those systems define."""

from __future__ import annotations

import re
import shutil
import zipfile

import pytest
from deploy_helpers import cmake_build, host_main, random_samples, run, tflm_outputs, write_samples

from conftest import corpus_path, require_tool
from tinyflow.export import export_model

KWS = "tflm/micro_speech_quantized.tflite"
HELLO = "tflm/hello_world_int8.tflite"
# Arduino library specification rev. 2.2: library.properties fields and the allowed categories.
REQUIRED_FIELDS = ("name", "version", "author", "maintainer", "sentence", "paragraph", "category", "architectures")
CATEGORIES = {
    "Display",
    "Communication",
    "Signal Input/Output",
    "Sensors",
    "Device Control",
    "Timing",
    "Data Storage",
    "Data Processing",
    "Other",
}
SEMVER = re.compile(r"\d+\.\d+\.\d+\Z")


def _properties(text: str) -> dict[str, str]:
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    return dict(ln.split("=", 1) for ln in lines)


def _unzip(path, dest):
    with zipfile.ZipFile(path) as z:
        z.extractall(dest)
        return z.namelist()


def _c_sources(root, under="src"):
    return sorted(
        p.relative_to(root).as_posix() for p in (root / under).rglob("*") if p.suffix in (".c", ".cc", ".cpp")
    )


@pytest.mark.parametrize("runtime", ["aot", "tflm"])
def test_arduino_library_follows_the_library_specification(tmp_path, runtime):
    report = export_model(corpus_path(HELLO), "arduino-library", tmp_path / "o", name="hello", runtime=runtime)
    zip_path = tmp_path / "o" / "hello.zip"
    assert report.written == [zip_path]
    names = _unzip(zip_path, tmp_path / "x")
    assert {n.split("/")[0] for n in names} == {"hello"}  # one root folder, named as the library
    root = tmp_path / "x" / "hello"
    props = _properties((root / "library.properties").read_text())
    assert set(REQUIRED_FIELDS) <= set(props)
    assert props["name"] == "hello" and SEMVER.match(props["version"]) and props["category"] in CATEGORIES
    assert props["dot_a_linkage"] == "true"
    assert (root / "src" / props["includes"]).is_file()
    assert (props.get("depends") == "Arduino_TensorFlowLite") is (runtime == "tflm")
    # Each example is a folder holding the sketch of the same name.
    sketches = [p for p in (root / "examples").iterdir()]
    assert [p.name for p in sketches] == ["hello_example"] and (sketches[0] / "hello_example.ino").is_file()
    assert f"#include <{props['includes']}>" in (sketches[0] / "hello_example.ino").read_text()
    assert not (root / "utility").exists() and not (root / "include").exists()  # the 1.5 src/ layout only
    again = export_model(corpus_path(HELLO), "arduino-library", tmp_path / "o2", name="hello", runtime=runtime)
    assert again.written[0].read_bytes() == zip_path.read_bytes()  # deterministic


ARDUINO_STUB = """#include <stdint.h>
#include <stdio.h>
#include <time.h>
struct SerialStub {
  void begin(long) {}
  explicit operator bool() const { return true; }
  void print(const char *s) { fputs(s, stdout); }
  void print(long v) { printf("%ld", v); }
  void print(int v) { printf("%d", v); }
  void print(unsigned long v) { printf("%lu", v); }
  void print(unsigned int v) { printf("%u", v); }
  void print(char c) { putchar(c); }
  void println(long v) { printf("%ld\\n", v); }
  void println(int v) { printf("%d\\n", v); }
  void println(unsigned long v) { printf("%lu\\n", v); }
  void println(unsigned int v) { printf("%u\\n", v); }
};
static SerialStub Serial;
static inline uint32_t millis(void) { return 0; }
static inline uint32_t micros(void) { return (uint32_t)clock(); }
"""


@pytest.mark.firmware
def test_arduino_example_sketch_builds_and_runs_on_the_host(tmp_path):
    require_tool("g++")
    export_model(corpus_path(KWS), "arduino-library", tmp_path / "o", name="kws")
    _unzip(tmp_path / "o" / "kws.zip", tmp_path / "x")
    root = tmp_path / "x" / "kws"
    (tmp_path / "Arduino.h").write_text(ARDUINO_STUB)
    sketch = root / "examples/kws_example/kws_example.ino"
    main = tmp_path / "sketch.cpp"  # what the IDE does: Arduino.h first, then the sketch, then main()
    main.write_text('#include "Arduino.h"\n' + sketch.read_text() + "int main() { setup(); return 0; }\n")
    objs = []
    for src in _c_sources(root):
        obj = tmp_path / (src.replace("/", "_") + ".o")
        run(["cc", "-std=c99", "-O1", "-c", root / src, "-I", root / "src", "-o", obj])
        objs.append(obj)
    run(["g++", "-O1", main, "-I", tmp_path, "-I", root / "src", *objs, "-o", tmp_path / "app"])
    out = run([tmp_path / "app"])
    assert re.search(r"invoke status 0, us \d+\n(-?\d+ ){3}-?\d+\n", out), out


def _yaml(path):
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize("runtime", ["aot", "tflm"])
def test_esp_idf_component_registers_exactly_its_sources(tmp_path, runtime):
    export_model(corpus_path(HELLO), "esp-idf", tmp_path / "hello", name="hello", runtime=runtime)
    comp = tmp_path / "hello"
    text = (comp / "CMakeLists.txt").read_text()
    call = re.search(r"idf_component_register\((.*?)\)", text, re.DOTALL).group(1)
    srcs = re.findall(r'"(src/[^"]+)"', call)
    assert srcs == _c_sources(comp)  # every compiled file, and no .inc (the kernels include those)
    assert re.search(r'INCLUDE_DIRS "include"', call) and (comp / "include" / "hello_model.h").is_file()
    assert ("REQUIRES esp-tflite-micro" in call) is (runtime == "tflm")
    manifest = _yaml(comp / "idf_component.yml")
    assert SEMVER.match(manifest["version"]) and "idf" in manifest["dependencies"]
    assert ("espressif/esp-tflite-micro" in manifest["dependencies"]) is (runtime == "tflm")


@pytest.mark.parametrize("runtime", ["aot", "tflm"])
def test_zephyr_module_layout(tmp_path, runtime):
    export_model(corpus_path(HELLO), "zephyr", tmp_path / "m", name="hello", runtime=runtime)
    root = tmp_path / "m"
    meta = _yaml(root / "zephyr" / "module.yml")
    assert meta == {"name": "hello", "build": {"cmake": ".", "kconfig": "Kconfig"}}
    kconfig = (root / "Kconfig").read_text()
    symbol = re.search(r"^config (\w+)$", kconfig, re.MULTILINE).group(1)
    cmake = (root / "CMakeLists.txt").read_text()
    assert f"if(CONFIG_{symbol})" in cmake
    assert ("depends on TENSORFLOW_LITE_MICRO" in kconfig) is (runtime == "tflm")
    listed = re.findall(r"(src/[\w/.]+\.(?:cpp|cc|c))(?=[\s)])", cmake)
    assert sorted(listed) == _c_sources(root)


# Stand-ins for the functions ESP-IDF and Zephyr define, as far as the packages use them; Zephyr
# links its libraries whole-archive, which the stand-in does too.
FAKE_IDF = """
function(idf_component_register)
  cmake_parse_arguments(IDF "" "" "SRCS;INCLUDE_DIRS;REQUIRES" ${ARGN})
  get_filename_component(name ${CMAKE_CURRENT_SOURCE_DIR} NAME)
  foreach(p ${IDF_SRCS} ${IDF_INCLUDE_DIRS})
    if(NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${p})
      message(FATAL_ERROR "${name}: ${p} does not exist")
    endif()
  endforeach()
  add_library(__idf_${name} STATIC ${IDF_SRCS})
  target_include_directories(__idf_${name} PUBLIC ${IDF_INCLUDE_DIRS})
endfunction()
"""
FAKE_ZEPHYR = """
add_library(zephyr_interface INTERFACE)
set(ZEPHYR_LIBS "")
macro(zephyr_library_named name)
  add_library(${name} STATIC)
  target_link_libraries(${name} PUBLIC zephyr_interface)
  set(ZEPHYR_CURRENT_LIBRARY ${name})
  set_property(GLOBAL APPEND PROPERTY ZEPHYR_LIBS ${name})
endmacro()
macro(zephyr_library_sources)
  target_sources(${ZEPHYR_CURRENT_LIBRARY} PRIVATE ${ARGN})
endmacro()
function(zephyr_include_directories)
  foreach(d ${ARGN})
    target_include_directories(zephyr_interface INTERFACE ${CMAKE_CURRENT_SOURCE_DIR}/${d})
  endforeach()
endfunction()
macro(zephyr_library_link_libraries)
  target_link_libraries(${ZEPHYR_CURRENT_LIBRARY} PUBLIC ${ARGN})
endmacro()
"""


def _two_model_app(tmp_path, fmt: str, link: str) -> None:
    """Write both models as `fmt`, build them into one program with `link`, run it, compare with TFLM."""
    models = {"kws": corpus_path(KWS), "hello": corpus_path(HELLO)}
    for name, path in models.items():
        export_model(path, fmt, tmp_path / name, name=name)
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.c").write_text(host_main([f"{n}_model" for n in models], [f"{n}_model.h" for n in models]))
    prelude = {
        "esp-idf": FAKE_IDF,
        "zephyr": FAKE_ZEPHYR + "".join(f"set(CONFIG_TINYFLOW_MODEL_{n} y)\n" for n in models),
    }
    subdirs = "".join(f"add_subdirectory({tmp_path / n} {n})\n" for n in models)
    (app / "CMakeLists.txt").write_text(
        f"cmake_minimum_required(VERSION 3.13)\nproject(app C)\n{prelude[fmt]}{subdirs}"
        f"add_executable(app main.c)\n{link}\n"
    )
    cmake_build(app, tmp_path / "build")
    samples = {n: random_samples(p, 3, k) for k, (n, p) in enumerate(models.items())}
    files = []
    for n, s in samples.items():
        write_samples(s, tmp_path / f"{n}.in")
        files += [tmp_path / f"{n}.in", tmp_path / f"{n}.out"]
    run([tmp_path / "build" / "app", 3, *files])
    for n, p in models.items():
        assert (tmp_path / f"{n}.out").read_bytes() == tflm_outputs(p, samples[n]), n


@pytest.mark.firmware
def test_two_esp_idf_components_build_into_one_program_bit_exact(tmp_path):
    _two_model_app(tmp_path, "esp-idf", "target_link_libraries(app PRIVATE __idf_kws __idf_hello)")


@pytest.mark.firmware
def test_two_zephyr_modules_link_whole_archive_into_one_program_bit_exact(tmp_path):
    link = (
        "target_link_libraries(app PRIVATE -Wl,--whole-archive tinyflow_kws tinyflow_hello -Wl,--no-whole-archive)\n"
        "target_link_libraries(app PRIVATE tinyflow_kws_kernels tinyflow_hello_kernels)"
    )
    _two_model_app(tmp_path, "zephyr", link)


@pytest.mark.firmware
def test_a_tflm_cmake_package_without_the_tflm_library_stops_with_what_to_set(tmp_path):
    require_tool("cmake")
    export_model(corpus_path(HELLO), "cmake", tmp_path / "pkg", name="hello", runtime="tflm")
    assert "project(tinyflow_hello LANGUAGES C CXX)" in (tmp_path / "pkg/CMakeLists.txt").read_text()
    assert {"src/model_tflm.cpp", "src/tinyflow_model_data.cc"} <= {
        p.relative_to(tmp_path / "pkg").as_posix() for p in (tmp_path / "pkg/src").iterdir()
    }
    import subprocess

    res = subprocess.run(
        ["cmake", "-S", tmp_path / "pkg", "-B", tmp_path / "b"], capture_output=True, text=True, timeout=120
    )
    assert res.returncode != 0 and "set TINYFLOW_TFLM_TARGET" in res.stderr
    shutil.rmtree(tmp_path / "b")


def _per_channel_dense() -> bytes:
    """A FULLY_CONNECTED with one weight scale per output channel (the pinned library ignores them)."""
    import numpy as np

    from tinyflow.tflite.writer import ModelBuilder

    mb = ModelBuilder()
    x = mb.tensor([1, 4], "int8", scale=0.05, zero_point=-3)
    w = mb.tensor(
        [3, 4], "int8", scale=[0.01, 0.02, 0.03], zero_point=[0, 0, 0], data=np.arange(12, dtype=np.int8).reshape(3, 4)
    )
    b = mb.tensor([3], "int32", scale=[0.0005, 0.001, 0.0015], zero_point=[0, 0, 0], data=np.zeros(3, np.int32))
    y = mb.tensor([1, 3], "int8", scale=0.1, zero_point=2)
    mb.op("FULLY_CONNECTED", [x, w, b], [y])
    return mb.build(inputs=[x], outputs=[y])


def test_only_the_arduino_tflm_library_refuses_what_the_pinned_library_gets_wrong(tmp_path):
    from tinyflow.errors import ModelError

    model = _per_channel_dense()
    with pytest.raises(ModelError, match="per-channel weights.*on Arduino_TensorFlowLite would be wrong"):
        export_model(model, "arduino-library", tmp_path / "a", name="d", runtime="tflm")
    assert not (tmp_path / "a").exists()
    # Other packages link the application's TFLM (esp-tflite-micro, Zephyr's module), not the pinned one.
    assert export_model(model, "esp-idf", tmp_path / "e", name="d", runtime="tflm").sources.runtime == "tflm"
    assert export_model(model, "arduino-library", tmp_path / "b", name="d", runtime="aot").sources.runtime == "aot"
