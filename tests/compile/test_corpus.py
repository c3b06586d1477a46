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
    # 1000 samples on the small models (issue #11): ad01 compiled with the other reference
    # arithmetic (FULLY_CONNECTED multipliers of a released TFLM) differs from the wheel by 1 LSB
    # on ~1% of eval's random samples and ~0.3% of these uniform ones; at seed 28 first at sample 541.
    compare_with_tflm(data, samples=30 if rel in BIG else 1000, seed=len(rel))
