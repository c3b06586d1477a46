"""Pruning the front end models: kws_cnn has DepthwiseConv2D layers, whose kernel Keras 3 calls `kernel`."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.tf


def test_prune_reports_depthwise_layers(tf):
    """Regression: compare() and the unstructured pruner read `depthwise_kernel`, which Keras 3's
    DepthwiseConv2D does not have (AttributeError on every model with a depthwise layer)."""
    from tinyflow.data import Dataset
    from tinyflow.model import prune, zoo

    model = zoo.build_model("kws_cnn", (12, 10), 2, seed=0)
    report = prune.compare(model, model, "none")
    kinds = {row.kind for row in report.layers}
    assert "DepthwiseConv2D" in kinds
    dw = next(r for r in report.layers if r.kind == "DepthwiseConv2D")
    assert dw.int8_bytes_before == 3 * 3 * 16 + 4 * 16  # int8 kernel + int32 bias per channel
    rng = np.random.default_rng(0)
    ds = Dataset(rng.normal(size=(16, 12, 10)).astype(np.float32), np.arange(16) % 2, name="tiny")
    pruned = prune.prune_unstructured(model, ds, None, sparsity=0.5, epochs=1, seed=0, verbose=False)
    kernel = np.asarray(next(l for l in pruned.layers if type(l).__name__ == "DepthwiseConv2D").kernel)
    assert abs(float(np.mean(kernel == 0)) - 0.5) < 0.05
