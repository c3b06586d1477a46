$docstring
# PlatformIO extra script (pre) for the pinned TFLM Arduino library (docs/tflm-library.md).
# PlatformIO hands build middlewares *build-directory* nodes ($$BUILD_DIR/lib<hash>/<lib>/...,
# without the library's src/); their srcnode() is the file in .pio/libdeps/<env>/<lib>/src/, so
# the patterns below are matched against that path.
Import("env")  # noqa: F821 (provided by PlatformIO's SCons)

_LIB = "/Arduino_TensorFlowLite/src/"
# src/peripherals and src/test_over_serial only build for the Nano 33 BLE Sense; system_setup.cpp
# defines DebugLog (to Serial on the Nano) which would print TFLM errors onto the protocol port:
# the project defines DebugLog in lib/tinyflow_model instead.
_SKIP = (_LIB + "peripherals/", _LIB + "test_over_serial/", _LIB + "tensorflow/lite/micro/system_setup.")


def _source_path(node):
    return node.srcnode().get_path().replace("\\", "/")


def tinyflow_library_node(env, node):
    """Drop the board-specific parts; compile the rest without C++ exceptions, as the library expects
    (TF_LITE_REMOVE_VIRTUAL_DELETE makes placement new ill-formed with -fexceptions, which
    Arduino-ESP32 sets for every file)."""
    path = _source_path(node)
    if _LIB not in path:
        return node
    if any(part in path for part in _SKIP):
        return None
    if not path.endswith((".cpp", ".cc")):
        return node
    # SCons puts CCFLAGS after CXXFLAGS on a C++ command line: strip -fexceptions from both.
    ccflags = [f for f in env.get("CCFLAGS", []) if f != "-fexceptions"]
    cxxflags = [f for f in env.get("CXXFLAGS", []) if f != "-fexceptions"] + ["-fno-exceptions"]
    return env.Object(node, CCFLAGS=ccflags, CXXFLAGS=cxxflags)


if "BOARD" not in env:  # noqa: F821
    # Platform `native` has no board, but the library's manifest says precompiled=full, for which
    # PlatformIO looks up {build.mcu} in the board's config and stops with "BoardConfig: Board is
    # not defined". There is nothing precompiled to find on the host: answer with an empty config.
    env.AddMethod(lambda _env, board=None: {}, "BoardConfig")  # noqa: F821

env.AddBuildMiddleware(tinyflow_library_node)  # noqa: F821
