"""The sweep configuration: every key of the untrusted CONFIG.toml checked, one clear error (no TensorFlow)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tinyflow.cli.main import cli
from tinyflow.errors import UsageError
from tinyflow.search.config import SweepConfig, load_config, parse_config

GOOD = """
[sweep]
dataset = "digits"
trials = 12
seed = 7
population = 4
objectives = ["accuracy", "ram", "fit"]
trial_timeout = 600

[space]
model = ["tiny_cnn", "mlp"]
width = [0.25, 0.5]
resolution = [8, 4]
prune = [0.0, 0.5]
board = ["nano33ble", "rpipico"]
"""


def test_a_good_config_is_read_with_its_directions(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(GOOD)
    config = load_config(path)
    assert config.trials == 12 and config.seed == 7 and config.trial_timeout == 600.0
    assert config.space.width == (0.25, 0.5) and config.space.board == ("nano33ble", "rpipico")
    assert config.space.quantization == ("ptq",)  # the default dimension
    assert config.metric_objectives == ("accuracy", "ram") and config.directions == ["maximize", "minimize"]
    assert config.digest() != SweepConfig().digest()


@pytest.mark.parametrize(
    "doc, words",
    [
        ({"sweep": {"trails": 3}}, "Unknown key sweep.trails"),
        ({"serch": {}}, "Unknown key serch"),
        ({"space": {"depth2": [1]}}, "Unknown key space.depth2"),
        ({"sweep": {"trials": "12"}}, "sweep.trials must be a int, got str"),
        ({"sweep": {"trials": True}}, "sweep.trials must be a int, got bool"),
        ({"sweep": {"trials": 0}}, "sweep.trials must be in [1, 10000]"),
        ({"sweep": {"seed": -1}}, "sweep.seed must be in"),
        ({"sweep": {"qat_epochs": 0}}, "sweep.qat_epochs must be in [1, 1000]"),
        ({"sweep": {"trial_timeout": float("inf")}}, "finite"),
        ({"sweep": {"objectives": ["accuracy", "speed"]}}, "Unknown objective 'speed'"),
        ({"sweep": {"objectives": ["fit"]}}, "names no metric"),
        ({"sweep": {"objectives": ["ram", "ram"]}}, "twice"),
        ({"sweep": {"target": "sim://qemu-m4"}}, "sweep.target must be one of"),
        ({"sweep": {"dataset": " "}}, "sweep.dataset is empty"),
        ({"space": {"width": []}}, "space.width must be a list of 1 to 64"),
        ({"space": {"width": 0.5}}, "space.width must be a list"),
        ({"space": {"width": [0.0]}}, "space.width value '0.0' must be in (0, 16]"),
        ({"space": {"prune": [1.0]}}, "space.prune value '1.0' must be in [0, 1)"),
        ({"space": {"model": ["resnet9"]}}, "space.model value 'resnet9' must be one of"),
        ({"space": {"board": ["../../etc"]}}, "must be a board id"),
        ({"space": {"resolution": [8, 8]}}, "lists a value twice"),
        ({"space": {"resolution": [1.5]}}, "space.resolution must be a int, got float"),
        ({"space": {"quantization": ["int4"]}}, "ptq or qat"),
        ({"space": []}, "[space] must be a table"),
    ],
)
def test_each_bad_key_is_one_usage_error_naming_it(doc, words):
    with pytest.raises(UsageError) as err:
        parse_config(doc)
    assert words in str(err.value)


def test_a_file_that_is_not_toml_or_too_big_is_refused(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[sweep\ntrials = 3")
    with pytest.raises(UsageError, match="not valid TOML"):
        load_config(bad)
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * 70_000)
    with pytest.raises(UsageError):
        load_config(big)


def test_a_dataset_file_next_to_the_config_is_made_absolute(tmp_path):
    (tmp_path / "data.npz").write_bytes(b"")
    path = tmp_path / "sweep.toml"
    path.write_text('[sweep]\ndataset = "data.npz"\n')
    assert load_config(path).dataset == str((tmp_path / "data.npz").resolve())


def test_cli_bad_config_is_one_error_line_exit_2(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text("[sweep]\ntrials = -3\n")
    res = CliRunner().invoke(cli, ["sweep", str(path), "-o", str(tmp_path / "out"), "--serial"], catch_exceptions=False)
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.startswith("Error: ")]
    assert lines == [
        "Error: sweep.trials must be in [1, 10000], got -3. Fix CONFIG.toml (docs/optimization.md#search lists every key)."
    ]
    assert not (tmp_path / "out").exists()


def test_cli_serial_and_ray_address_contradict(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(GOOD)
    res = CliRunner().invoke(cli, ["sweep", str(path), "-o", str(tmp_path / "o"), "--serial", "--ray-address", "h:1"])
    assert res.exit_code == 2 and "contradict" in res.output


def test_workers_with_serial_is_refused_before_anything_runs(tmp_path):
    from tinyflow.search import sweep

    with pytest.raises(UsageError, match="--workers sizes a local Ray"):
        sweep(SweepConfig(), tmp_path / "o", serial=True, workers=2)
    assert not (tmp_path / "o").exists()


def test_optuna_ray_and_tensorflow_are_imported_lazily():
    import subprocess
    import sys

    code = (
        "import sys, tinyflow.search, tinyflow.cli.sweep, tinyflow.search.trial, tinyflow.search.executor\n"
        "from tinyflow.cli.main import cli\n"
        "print(sorted(m for m in ('optuna', 'ray', 'tensorflow', 'mlflow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
