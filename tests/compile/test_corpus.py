"""Every corpus model compiles to C and gives int8 outputs identical to TFLite Micro on random
inputs (state carried across invokes in both runtimes)."""

from __future__ import annotations

import pytest

from compiled_helpers import compare_with_tflm
from conftest import CORPUS, corpus_path

pytestmark = pytest.mark.firmware
BIG = {"tflm/person_detect.tflite", "mlperf_tiny/vww_96_int8.tflite", "mlperf_tiny/pretrainedResnet_quant.tflite"}


@pytest.mark.parametrize("rel", CORPUS, ids=lambda p: p.split("/")[-1][:-7])
def test_corpus_model_is_bit_exact_with_tflm(rel):
    data = corpus_path(rel).read_bytes()
    compare_with_tflm(data, samples=2 if rel in BIG else 8, seed=len(rel))
