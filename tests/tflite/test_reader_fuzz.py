"""Longer fuzzing of the reader (marked fuzz): mutated corpus models parse or raise ModelError, fast."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CORPUS, corpus_path
from tinyflow.errors import ModelError
from tinyflow.tflite import read_model

pytestmark = pytest.mark.fuzz

_mutation = st.tuples(
    st.sampled_from(["flip", "set", "cut", "splice"]),
    st.integers(0, 1 << 30),
    st.integers(0, 255),
    st.integers(1, 64),
)


@pytest.mark.parametrize("rel", CORPUS)
@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutations=st.lists(_mutation, min_size=1, max_size=6))
def test_mutated_corpus_models(rel, mutations):
    data = bytearray(corpus_path(rel).read_bytes())
    for kind, pos, value, length in mutations:
        if not data:
            break
        # Most structure (root table, vtables, offsets) sits in the first few KiB.
        at = pos % (min(len(data), 4096) if pos & 1 else len(data))
        if kind == "flip":
            data[at] ^= value or 1
        elif kind == "set":
            data[at : at + 4] = bytes([value]) * 4
        elif kind == "cut":
            del data[at:]
        else:  # copy a run of bytes from elsewhere: plausible offsets in wrong places
            src = (pos // 7) % len(data)
            data[at : at + length] = data[src : src + length]
    start = time.monotonic()
    try:
        read_model(bytes(data))
    except ModelError:
        pass
    assert time.monotonic() - start < 2.0
