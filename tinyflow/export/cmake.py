"""The `cmake` format: a CMake package of one model, for `add_subdirectory` or `find_package`.

    add_subdirectory(kws)                        # or: cmake --install, then
    find_package(kws CONFIG REQUIRED)            #     with CMAKE_PREFIX_PATH at the install prefix
    target_link_libraries(app PRIVATE tinyflow::kws)

The library is STATIC with one object per kernel, so two models sharing kernels link into one
program: the linker takes each kernel object once (the copies are identical). Cross builds use the
shipped cmake/arm-none-eabi.cmake (-DTINYFLOW_CPU=cortex-m4, the default). Every name in the
text is the model's C identifier (tinyflow.escaping.c_identifier): nothing from the model is
quoted into CMake as is.
"""

from __future__ import annotations

from tinyflow.compile.cemit import generated_banner
from tinyflow.export.package import PackageReport, PackageSources, package_sources, write_package

COMMAND = "tinyflow deploy"

TOOLCHAIN = """\
# arm-none-eabi toolchain for a tinyflow package (bare metal: no executables are linked while
# configuring). Pick the core with -DTINYFLOW_CPU=cortex-m0plus|cortex-m4|cortex-m7|cortex-m33|...
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(TINYFLOW_CPU "cortex-m4" CACHE STRING "The -mcpu of the Cortex-M core")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES TINYFLOW_CPU)
set(CMAKE_C_FLAGS_INIT "-mcpu=${TINYFLOW_CPU} -mthumb -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "${CMAKE_C_FLAGS_INIT}")
"""


def cmake_list(paths: list[str], indent: str = "  ") -> str:
    """Paths as one CMake argument each (package paths: letters, digits, '_', '.', '/' only)."""
    return "\n".join(f"{indent}{p}" for p in paths)


def cmake_lists(s: PackageSources) -> str:
    """The package's CMakeLists.txt."""
    n, t = s.name, f"tinyflow_{s.name}"  # the target's prefix keeps clear of the application's targets
    langs = "C CXX" if s.runtime == "tflm" else "C"
    tflm = ""
    if s.runtime == "tflm":
        tflm = f"""
# The TFLM library is the application's: name its target (for example one built from tflite-micro).
set(TINYFLOW_TFLM_TARGET "" CACHE STRING "The CMake target of the TensorFlow Lite Micro library")
if(NOT TARGET "${{TINYFLOW_TFLM_TARGET}}")
  message(FATAL_ERROR "{n}: --runtime tflm needs the TFLM library; set TINYFLOW_TFLM_TARGET to its target")
endif()
target_link_libraries({t} PUBLIC "${{TINYFLOW_TFLM_TARGET}}")
"""
    return f"""{generated_banner(s.origin, comment="#", command=COMMAND)}
cmake_minimum_required(VERSION 3.13)
project({t} LANGUAGES {langs})

add_library({t} STATIC
{cmake_list(s.sources())}
)
add_library(tinyflow::{n} ALIAS {t})
target_include_directories({t} PUBLIC
  $<BUILD_INTERFACE:${{CMAKE_CURRENT_SOURCE_DIR}}/include>
  $<INSTALL_INTERFACE:include/{n}>
)
set_target_properties({t} PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON)
{tflm}
include(GNUInstallDirs)
set_target_properties({t} PROPERTIES EXPORT_NAME {n})
install(TARGETS {t} EXPORT {n}Targets ARCHIVE DESTINATION ${{CMAKE_INSTALL_LIBDIR}})
install(DIRECTORY include/ DESTINATION include/{n})
install(EXPORT {n}Targets NAMESPACE tinyflow:: DESTINATION ${{CMAKE_INSTALL_LIBDIR}}/cmake/{n})
install(FILES cmake/{n}Config.cmake DESTINATION ${{CMAKE_INSTALL_LIBDIR}}/cmake/{n})
"""


def package_config(s: PackageSources) -> str:
    """cmake/<name>Config.cmake: what find_package(<name>) loads from the install prefix."""
    return (
        f"{generated_banner(s.origin, comment='#', command=COMMAND)}\n"
        f'include("${{CMAKE_CURRENT_LIST_DIR}}/{s.name}Targets.cmake")\n'
    )


def write_cmake(
    model,
    out_dir,
    *,
    name: str | None = None,
    runtime: str = "aot",
    force: bool = False,
    shared_arena: str | None = None,
    max_ram: int | None = None,
) -> PackageReport:
    """Write the CMake package of `model` into `out_dir`."""
    s = package_sources(model, name, runtime, shared_arena=shared_arena, max_ram=max_ram)
    extra = {
        "CMakeLists.txt": cmake_lists(s),
        f"cmake/{s.name}Config.cmake": package_config(s),
        "cmake/arm-none-eabi.cmake": TOOLCHAIN,
    }
    build = f"add_subdirectory({out_dir}) or find_package({s.name}), then link tinyflow::{s.name}"
    return write_package("cmake", s, extra, out_dir, force, build)
