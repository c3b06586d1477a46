"""sim:// URL options: unknown keys, unknown boards and bad values are one UsageError naming the valid ones."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from conftest import corpus_path
from tinyflow.errors import UsageError
from tinyflow.targets import SIM_OPTIONS, open_target


@pytest.mark.parametrize(
    "url, match",
    [
        ("sim://host?board=nope", r"Unknown board 'nope' in sim://host\?board=nope.*esp32dev.*nano33ble"),
        ("sim://tflm?board=../boards/nano33ble", r"Unknown board '../boards/nano33ble'"),
        ("sim://qemu-m4?board=", r"Unknown board '' in"),
        (
            "sim://host?bord=nano33ble",
            r"sim://host does not take the option 'bord'.*benchmark, board, fake, max_ram, protocol, rx, sanitize",
        ),
        ("sim://tflm?bord=", r"sim://tflm does not take the option 'bord'.*Valid: board"),
        ("sim://tflm?board=nano33ble&board=esp32dev", r"gives 'board' twice"),
        ("sim://qemu-m4?kernels=fast", r"kernels=fast.*dsp, portable"),
        ("sim://host?sanitize=maybe", r"sanitize=maybe.*0, 1"),
        ("sim://tflm/extra", r"Unknown simulated target 'sim://tflm/extra'"),
    ],
)
def test_bad_sim_urls_are_one_usage_error(url, match):
    model = corpus_path("tflm/hello_world_int8.tflite").read_bytes()
    with pytest.raises(UsageError, match=match):
        open_target(url, model=model).close()


def test_every_simulator_has_an_options_table():
    from tinyflow.targets import SIMULATORS

    assert set(SIM_OPTIONS) == set(SIMULATORS) and all("board" in keys for keys in SIM_OPTIONS.values())


def test_a_valid_board_in_the_url_is_used():
    port = open_target("sim://tflm?board=esp32dev", model=corpus_path("tflm/hello_world_int8.tflite"))
    try:
        assert port.runtime.board_id == "esp32dev"
    finally:
        port.close()


def test_cli_exits_2_with_one_error_line(tmp_path):
    from tinyflow.cli.main import cli

    model = str(corpus_path("tflm/hello_world_int8.tflite"))
    res = CliRunner().invoke(cli, ["profile", model, "--target", "sim://host?board=nope"])
    assert res.exit_code == 2, res.output
    errors = [ln for ln in res.output.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and "Unknown board 'nope'" in errors[0] and "Traceback" not in res.output
