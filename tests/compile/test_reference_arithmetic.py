"""One reference (issue #11): the compiled runtime follows the FULLY_CONNECTED multiplier arithmetic
of either the tflite_micro wheel (default; what the host checks against) or released TFLM."""

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import corpus_path
from tinyflow.compile import compile_model
from tinyflow.compile.quant import fc_multipliers
from tinyflow.errors import UsageError
from tinyflow.tflite import read_model

AD01 = "mlperf_tiny/ad01_int8.tflite"


def test_the_two_arithmetics_give_different_ad01_multipliers():
    m = read_model(corpus_path(AD01))
    op = next(o for o in m.ops if o.name == "FULLY_CONNECTED")
    i, w, o = (m.tensors[k] for k in (op.inputs[0], op.inputs[1], op.outputs[0]))
    wheel = fc_multipliers(i.scale[0], w.scale, o.scale[0], 1, reference="wheel")
    release = fc_multipliers(i.scale[0], w.scale, o.scale[0], 1, reference="release")
    # release: float32(in * w) as TFLM's GetQuantizedConvolutionMultipler computes it
    product = float(np.float32(i.scale[0]) * np.float32(w.scale[0]))
    assert release == fc_multipliers(1.0, np.array([product], np.float32), o.scale[0], 1, reference="wheel")
    assert wheel != release


def test_compile_follows_the_chosen_reference():
    data = corpus_path(AD01).read_bytes()
    assert compile_model(data).sources == compile_model(data, reference="wheel").sources
    assert compile_model(data, reference="release").sources != compile_model(data).sources
    with pytest.raises(UsageError, match="Unknown reference 'tflite'"):
        compile_model(data, reference="tflite")


@pytest.mark.firmware
def test_ad01_on_sim_host_agrees_exactly_with_the_stated_reference():
    import json

    from tinyflow.cli.main import cli

    res = CliRunner().invoke(
        cli,
        ["eval", str(corpus_path(AD01)), "--target", "sim://host", "--dataset", "random:300", "--seed", "1", "--json"],
    )
    assert res.exit_code == 0, res.output
    report = json.loads(res.output[res.output.index("{") :])
    assert report["agreement"]["exact_match_rate"] == 1.0
    assert report["agreement"]["reference"].startswith("wheel (tflite-micro ")


def test_cli_compile_takes_the_reference(tmp_path):
    from tinyflow.cli.main import cli

    out = {}
    for ref in ("wheel", "release"):
        res = CliRunner().invoke(
            cli, ["compile", str(corpus_path(AD01)), "-o", str(tmp_path / ref), "--no-tflm-arena", "--reference", ref]
        )
        assert res.exit_code == 0, res.output
        out[ref] = (tmp_path / ref / "ad01_int8.c").read_text()
    assert out["wheel"] != out["release"]
    res = CliRunner().invoke(cli, ["compile", str(corpus_path(AD01)), "-o", str(tmp_path / "x"), "--reference", "tf"])
    assert res.exit_code == 2
