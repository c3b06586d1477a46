"""Our MLPerf Tiny zoo models convert to the same int8 graph as the published reference .tflite files."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import corpus_path

pytestmark = [pytest.mark.tf, pytest.mark.slow]


def _signature(model):
    # Newer converters fold the Flatten RESHAPE away; everything else must match op for op,
    # with the same weight shapes (so the same filters, kernels, strides of channels).
    return [
        (
            op.name,
            model.tensors[op.inputs[1]].shape
            if op.name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
            else None,
        )
        for op in model.ops
        if op.name != "RESHAPE"
    ]


@pytest.mark.parametrize(
    "name, reference",
    [
        ("ds_cnn", "mlperf_tiny/kws_ref_model.tflite"),
        ("resnet8", "mlperf_tiny/pretrainedResnet_quant.tflite"),
    ],
)
def test_int8_graph_matches_mlperf_reference(tf, name, reference):
    from tinyflow.model import quantize, zoo
    from tinyflow.tflite import read_model

    ref = read_model(corpus_path(reference))
    model = zoo.build_model(name, seed=0)
    calib = np.random.default_rng(0).normal(size=(4, *model.input_shape[1:])).astype(np.float32)
    ours = read_model(quantize.to_tflite(model, calib))
    assert _signature(ours) == _signature(ref)
    assert ours.tensors[ours.inputs[0]].shape == ref.tensors[ref.inputs[0]].shape
