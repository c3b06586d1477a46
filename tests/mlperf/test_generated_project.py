"""Generated firmware projects take `--protocol eembc --benchmark ...` (the EEMBC core's
TINYFLOW_EEMBC_BENCHMARK); a benchmark without the EEMBC protocol is a usage error."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from mlperf_helpers import MODELS

from conftest import corpus_path
from tinyflow.cli.main import cli
from tinyflow.errors import UsageError
from tinyflow.export.platformio import plan_project


def test_the_benchmark_reaches_the_generated_config():
    plan = plan_project(corpus_path(MODELS["kws01"]), "nucleo_l4r5zi", "aot", protocol="eembc", benchmark="kws01")
    config = plan.files["include/tinyflow_config.h"]
    assert "#define TINYFLOW_PROTOCOL_EEMBC 1" in config
    assert "#define TINYFLOW_EEMBC_BENCHMARK 1" in config
    plain = plan_project(corpus_path(MODELS["kws01"]), "nucleo_l4r5zi", "aot", protocol="eembc")
    assert "TINYFLOW_EEMBC_BENCHMARK" not in plain.files["include/tinyflow_config.h"]


def test_a_benchmark_needs_the_eembc_protocol():
    with pytest.raises(UsageError, match="needs --protocol eembc"):
        plan_project(corpus_path(MODELS["kws01"]), "nucleo_l4r5zi", "aot", benchmark="kws01")


def test_firmware_generate_cli(tmp_path):
    model = str(corpus_path(MODELS["ad01"]))
    args = ["firmware", "generate", model, "--board", "nucleo_l4r5zi", "--runtime", "aot", "-o", str(tmp_path / "p")]
    res = CliRunner().invoke(cli, [*args, "--protocol", "eembc", "--benchmark", "ad01"])
    assert res.exit_code == 0, res.output
    assert "#define TINYFLOW_EEMBC_BENCHMARK 4" in (tmp_path / "p" / "include" / "tinyflow_config.h").read_text()
    res = CliRunner().invoke(cli, [*args[:-1], str(tmp_path / "q"), "--benchmark", "ad01"])
    assert res.exit_code == 2
    assert res.output.strip().splitlines()[-1].startswith("Error: Benchmark 'ad01' needs --protocol eembc")
