"""platformio.ini of tflm projects carries what the by-hand builds of issue #11 needed, per board,
and pinned platform versions; PlatformIO's own ProjectConfig reads it back."""

import pytest

from conftest import corpus_path
from tinyflow.build.platformio import lint_ini
from tinyflow.export.platformio import ini, plan_project


def _config(tmp_path, board, runtime="tflm"):
    from platformio.project.config import ProjectConfig

    kw = {"measured_arena_bytes": 1936} if runtime == "tflm" else {}
    plan = plan_project(corpus_path("tflm/hello_world_int8.tflite"), board, runtime, **kw)
    path = tmp_path / "platformio.ini"
    path.write_text(plan.files["platformio.ini"])
    assert lint_ini(path) == {"errors": [], "warnings": []}
    return ProjectConfig(str(path))


@pytest.mark.parametrize(
    "board, platform",
    [
        ("nano33ble", "nordicnrf52@10.11.0"),
        ("esp32dev", "espressif32@6.13.0"),
        ("rpipico", "raspberrypi@1.19.0"),
        ("nucleo_l4r5zi", "ststm32@19.6.0"),
    ],
)
def test_platforms_are_pinned_to_a_release(tmp_path, board, platform):
    config = _config(tmp_path, board)
    assert config.get(f"env:{board}", "platform") == platform
    assert config.get("env:native", "platform") == "native@1.2.1"


@pytest.mark.parametrize("board", ["nano33ble", "esp32dev"])
def test_board_envs_never_build_the_librarys_example_dependencies(tmp_path, board):
    ignored = _config(tmp_path, board).get(f"env:{board}", "lib_ignore")
    assert {"ArduinoBLE", "Arduino_LSM9DS1", "tinyflow_port_host"} <= set(ignored)
    assert _config(tmp_path, board).get(f"env:{board}", "lib_ldf_mode") == "chain"


def test_native_env_keeps_the_arduino_library_and_drops_its_example_dependencies(tmp_path):
    config = _config(tmp_path, "esp32dev")
    # Without this the LDF finds the library incompatible with platform native (it declares arduino).
    assert config.get("env:native", "lib_compat_mode") == "off"
    assert {"ArduinoBLE", "Arduino_LSM9DS1", "tinyflow_port_arduino"} <= set(config.get("env:native", "lib_ignore"))
    assert config.get("env:native", "extra_scripts") == ["pre:tinyflow_build.py"]


def test_aot_projects_have_no_library_settings(tmp_path):
    config = _config(tmp_path, "esp32dev", runtime="aot")
    assert config.get("env:native", "lib_compat_mode") != "off"
    assert config.get("env:esp32dev", "lib_ignore") == ["tinyflow_port_host"]
    assert config.get("env:esp32dev", "platform") == "espressif32@6.13.0"


def test_a_board_file_that_pins_its_platform_keeps_its_version():
    assert ini.pinned_platform("espressif32@6.5.0") == "espressif32@6.5.0"
    assert ini.pinned_platform("https://github.com/x/platform-y.git") == "https://github.com/x/platform-y.git"
