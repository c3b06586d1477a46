"""Model zoo: MLPerf Tiny reference shapes and exact parameter counts (incl. BatchNorm statistics)."""

from __future__ import annotations

import pytest

from tinyflow.errors import UsageError

pytestmark = pytest.mark.tf


@pytest.mark.parametrize(
    "name, shape, outputs, params",
    [
        ("ds_cnn", (49, 10, 1), 12, 24_908),
        ("mobilenet_v1", (96, 96, 3), 2, 221_794),
        ("resnet8", (32, 32, 3), 10, 78_666),
        ("autoencoder", (640,), 640, 269_992),
    ],
)
def test_mlperf_tiny_references(tf, name, shape, outputs, params):
    from tinyflow.model.zoo import REFERENCE_PARAMS, build_model

    model = build_model(name)
    assert model.input_shape[1:] == shape and model.output_shape[-1] == outputs
    assert model.count_params() == params == REFERENCE_PARAMS[name]


def test_small_models_and_width(tf):
    from tinyflow.model.zoo import build_model

    cnn = build_model("tiny_cnn", (8, 8, 1), 10)
    assert cnn.count_params() == 9_450 and cnn.output_shape == (None, 10)
    assert build_model("mlp", (64,), 3).output_shape == (None, 3)
    # HxW windows (gestures: 64x3) get a channel axis in front of the 2-D convolutions
    gest = build_model("tiny_cnn", (64, 3), 5)
    assert gest.input_shape == (None, 64, 3) and gest.layers[1].name == "add_channel"
    assert build_model("ds_cnn", width=0.5).count_params() < 24_908 / 2
    wide = build_model("mobilenet_v1", width=2.0)  # alpha 0.5
    assert [l.filters for l in wide.layers if type(l).__name__ == "Conv2D"][0] == 16


def test_zoo_errors(tf):
    from tinyflow.model.zoo import build_model

    with pytest.raises(UsageError, match="Unknown model 'lenet'"):
        build_model("lenet")
    with pytest.raises(UsageError, match=r"needs an HxWxC or HxW input, got shape \(64,\)"):
        build_model("tiny_cnn", (64,))
    with pytest.raises(UsageError, match="width must be positive"):
        build_model("mlp", width=0)
