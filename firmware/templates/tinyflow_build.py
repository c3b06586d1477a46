# $banner
# PlatformIO extra script (pre): keeps out of the build the parts of the pinned TFLM Arduino
# library that only build for the Nano 33 BLE Sense (src/peripherals, its serial test helper) and
# its system_setup.cpp (DebugLog to Serial would corrupt the protocol link; the project defines
# DebugLog in lib/tinyflow_model).
Import("env")  # noqa: F821 (provided by PlatformIO's SCons)

_SKIP = ("/Arduino_TensorFlowLite/src/peripherals/", "/Arduino_TensorFlowLite/src/test_over_serial/",
         "/Arduino_TensorFlowLite/src/tensorflow/lite/micro/system_setup.")


def tinyflow_skip(env, node):
    path = node.get_path().replace("\\", "/")
    return None if any(part in path for part in _SKIP) else node


env.AddBuildMiddleware(tinyflow_skip)  # noqa: F821
