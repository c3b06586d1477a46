"""Patch-based inference, the pure part: receptive fields, band params and band schedules.

The schedule is checked by executing it: a row-wise stand-in for the kernels (each output row a
function of the input rows in its window, clipped to [0, input_h) as the kernels clip) runs band by
band through band buffers, shifts included, and must give the whole-tensor result."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyflow.compile.patch_search import span
from tinyflow.compile.patches import Call, Layer, schedule
from tinyflow.compile.quant import out_size, padding


def layer(in_rows, k, s, pad="SAME", d=1, rin=4, rout=4) -> Layer:
    out = out_size(pad, in_rows, k, s, d)
    return Layer(in_rows, out, s, padding(s, d, in_rows, k, out), k, d, rin, rout)


def test_receptive_field_stride_1_same():
    ly = layer(8, 3, 1)
    assert ly.pad_top == 1
    assert ly.receptive(0, 1) == (0, 2)  # the top pad row is not an image row
    assert ly.receptive(3, 5) == (2, 6)
    assert ly.receptive(7, 8) == (6, 8)  # bottom pad clipped
    assert ly.band_pad(0, 0) == 1 and ly.band_pad(3, 2) == 0


def test_receptive_field_stride_2_same_even():
    ly = layer(48, 3, 2)  # TF SAME: 24 rows, total pad 1, all of it at the bottom
    assert (ly.out_rows, ly.pad_top) == (24, 0)
    assert ly.receptive(0, 1) == (0, 3)
    assert ly.receptive(5, 7) == (10, 15)
    assert ly.receptive(23, 24) == (46, 48)  # the last band reads the image's end and the bottom pad
    assert ly.band_pad(23, 46) == 0


def test_receptive_field_stride_2_same_odd_and_valid():
    ly = layer(7, 3, 2)  # 4 rows, total pad 2: one on top
    assert (ly.out_rows, ly.pad_top) == (4, 1)
    assert ly.receptive(0, 1) == (0, 2) and ly.band_pad(0, 0) == 1
    assert ly.receptive(1, 3) == (1, 6) and ly.band_pad(1, 1) == 0
    valid = layer(9, 5, 1, "VALID")
    assert (valid.out_rows, valid.pad_top) == (5, 0)
    assert valid.receptive(0, 2) == (0, 6) and valid.receptive(4, 5) == (4, 9)
    dil = layer(10, 3, 1, "SAME", d=2)  # dilation 2: taps 2 rows apart, pad 2
    assert dil.pad_top == 2 and dil.receptive(0, 1) == (0, 3) and dil.receptive(9, 10) == (7, 10)


def test_two_layer_schedule_by_hand():
    """3x3 stride 1 then 3x3 stride 2 (SAME) over 8 rows, one output row per band."""
    a, b = layer(8, 3, 1, rin=4, rout=8), layer(8, 3, 2, rin=8, rout=8)
    sch = schedule([a, b], 1)
    assert sch.calls[:4] == [
        Call(0, 0, 3, 0, 4, 0, 0),  # rows 0-2 of the middle tensor, from input rows 0-3 (pad 1 on top)
        Call(1, 0, 1, 0, 3, 0, 0),
        Call(0, 3, 5, 2, 6, 2, 1, shift=(2, 1)),  # row 2 is kept (moved to the top), rows 3-4 are new
        Call(1, 1, 2, 2, 5, 0, 1),
    ]
    assert sch.calls[-2] == Call(0, 7, 8, 6, 8, 6, 1, shift=(2, 1))
    assert sch.buffer_rows == [3] and sch.buffer_bytes == [24]
    assert sch.shifted_bytes == 3 * 8 and sch.extra_calls == 6
    assert sch.overlap == 0  # input row 2j is read again after output row j is written


def _rows(x: np.ndarray, ly: Layer, out_rows: int, pad: int, w: np.ndarray) -> np.ndarray:
    """A kernel stand-in: output row o mixes input rows o*s - pad + f*d, taps outside [0, rows) skipped."""
    out = np.zeros(out_rows, dtype=np.int64)
    for o in range(out_rows):
        for f in range(ly.filter):
            r = o * ly.stride - pad + f * ly.dilation
            if 0 <= r < len(x):
                out[o] = (out[o] * 31 + x[r] * w[f] + f + 1) % 1000003
    return out


def _run_schedule(layers: list[Layer], rows: int, x: np.ndarray, ws) -> np.ndarray:
    sch = schedule(layers, rows)
    bufs = [np.full(r, -1, dtype=np.int64) for r in sch.buffer_rows]
    out = np.full(layers[-1].out_rows, -1, dtype=np.int64)
    for c in sch.calls:
        ly = layers[c.layer]
        src = x if c.layer == 0 else bufs[c.layer - 1]
        dst = out if c.layer == len(layers) - 1 else bufs[c.layer]
        if c.shift:
            frm, n = c.shift
            dst[:n] = dst[frm : frm + n].copy()
        band_in = src[c.in_offset : c.in_offset + c.r1 - c.r0]
        assert len(band_in) == c.r1 - c.r0 and (band_in >= 0).all(), "a band reads rows nobody computed"
        dst[c.out_offset : c.out_offset + c.hi - c.lo] = _rows(
            band_in, ly, c.hi - c.lo, ly.band_pad(c.lo, c.r0), ws[c.layer]
        )
    return out


@st.composite
def stacks(draw):
    rows = draw(st.integers(2, 40))
    layers = []
    for _ in range(draw(st.integers(2, 5))):
        k, s, d = draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
        pad = draw(st.sampled_from(["SAME", "VALID"]))
        out = out_size(pad, rows, k, s, d)
        if out < 1:
            break
        layers.append(Layer(rows, out, s, padding(s, d, rows, k, out), k, d, 1, 1))
        rows = out
    return layers, draw(st.integers(1, 8))


@settings(max_examples=300, deadline=None)
@given(stacks(), st.integers(0, 2**31))
def test_schedule_computes_what_whole_tensors_compute(stack, seed):
    layers, band = stack
    if len(layers) < 2:
        return
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 1000, layers[0].in_rows)
    ws = [rng.integers(1, 100, ly.filter) for ly in layers]
    want = x
    for ly, w in zip(layers, ws):
        want = _rows(want, ly, ly.out_rows, ly.pad_top, w)
    np.testing.assert_array_equal(_run_schedule(layers, band, x, ws), want)
    sch = schedule(layers, band)
    # No recomputation: every row of an intermediate tensor is computed at most once.
    for i in range(len(layers) - 1):
        made = [r for c in sch.calls if c.layer == i for r in range(c.lo, c.hi)]
        assert len(made) == len(set(made))
    # The overlap the planner is given holds: no output byte lands on input a later call reads.
    reads = [(k, c.r0) for k, c in enumerate(sch.calls) if c.layer == 0]
    for k, c in enumerate(sch.calls):
        if c.layer == len(layers) - 1:
            for j, r0 in reads:
                if j > k:
                    assert sch.overlap + c.hi * layers[-1].out_row_bytes <= r0 * layers[0].in_row_bytes


def test_schedule_refuses_what_does_not_chain():
    with pytest.raises(ValueError):
        schedule([layer(8, 3, 1)], 1)
    with pytest.raises(ValueError):
        schedule([layer(8, 3, 1), layer(9, 3, 1)], 1)
    with pytest.raises(ValueError):
        schedule([layer(8, 3, 1), layer(8, 3, 1)], 0)


def test_span_of_overlapping_tensors():
    assert span(100, 50, None) == 150
    assert span(100, 50, 10) == 100  # the output may sit inside the input
    assert span(100, 50, -8) == 108  # it must start 8 bytes before the input
    assert span(10, 50, -200) == 60  # never worse than side by side
