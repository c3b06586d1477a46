"""RESHAPE kernel vs TFLM, and its shape check."""

from __future__ import annotations

import numpy as np
import pytest
from elementwise_kernels import call, rand_int, run_tflm

from tinyflow.compile.ops import reshape
from tinyflow.errors import ModelError
from tinyflow.tflite.writer import ModelBuilder

pytestmark = pytest.mark.firmware


@pytest.mark.parametrize("src, dst", [([1, 1960], [1, 49, 40, 1]), ([1, 1, 1, 64], [1, 64]), ([2, 3, 4], [4, 6])])
def test_reshape_matches_tflm(src, dst):
    mb = ModelBuilder()
    a = mb.tensor(src, "int8", 0.1, 3)
    s = mb.tensor([len(dst)], "int32", data=dst)
    y = mb.tensor(dst, "int8", 0.1, 3)
    mb.op("RESHAPE", [a, s], [y], new_shape=dst)
    x = rand_int(np.random.default_rng(0), src)
    want = run_tflm(mb.build([a], [y]), [x])[0]
    got = np.zeros(dst, np.int8)
    assert call("tinyflow_reshape", x, got, reshape.prepare(src, dst, 1)["bytes"]) == 0
    np.testing.assert_array_equal(got, want.reshape(dst))


def test_reshape_rejects_count_change():
    with pytest.raises(ModelError, match="changes the element count"):
        reshape.prepare([2, 3], [7], 1)
