"""Patch-based inference: run a chain of spatial ops band by band so its large tensors never exist whole.

A stage is a chain of ops (CONV_2D, DEPTHWISE_CONV_2D, pooling) from one whole tensor to another.
Its output is computed in horizontal bands of `band_rows` rows; for each band every layer computes
only the rows of its output the next layer needs and has not computed yet, into a small band
buffer that keeps the rows still needed (the rows shared by the receptive fields of consecutive
bands are kept and shifted to the buffer's start, not recomputed: MCUNetV2 recomputes them). The
only extra work is the shift copies and more kernel calls; the RAM is the band buffers instead of
the stage's intermediate tensors.

Pure: row geometry in, a schedule out (tinyflow.compile.patch_plan applies it to lowered ops).
Rows are counted along H; a kernel call over a band takes the input from the band's first row with
input_h = the rows it reads and pad_h = the part of the top padding still above them, so the
kernels compute exactly what they compute on the whole tensor (they read padding only through the
params and clip their windows to [0, input_h), which ends at the image's end for the last band only
when the last rows are needed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Estimated instructions of one extra kernel call (argument setup, param checks, loop setup) and
# bytes shifted per instruction (word copies), for ranking configurations. Fitted to person_detect on
# sim://qemu-m4 (DSP kernels): 8-134 extra calls and 3-58 KB shifted cost 3,450-66,786 instructions,
# i.e. 330-500 per call and ~4 bytes per instruction; bench/patches.py measures the real cost.
CALL_COST = 400
SHIFT_BYTES_PER_INSTRUCTION = 4


@dataclass(frozen=True)
class Layer:
    """One op's geometry along H (batch 1): rows and bytes per row of its input and output."""

    in_rows: int
    out_rows: int
    stride: int
    pad_top: int
    filter: int
    dilation: int
    in_row_bytes: int
    out_row_bytes: int

    def receptive(self, lo: int, hi: int) -> tuple[int, int]:
        """Input rows [r0, r1) that output rows [lo, hi) read, clipped to the image."""
        r0 = max(lo * self.stride - self.pad_top, 0)
        r1 = min((hi - 1) * self.stride - self.pad_top + (self.filter - 1) * self.dilation + 1, self.in_rows)
        return r0, r1

    def band_pad(self, lo: int, r0: int) -> int:
        """pad_h of a call computing output rows from `lo` on, reading input rows from `r0` on."""
        return r0 - (lo * self.stride - self.pad_top)


@dataclass(frozen=True)
class Call:
    """One kernel call of one band: layer `layer` computes its output rows [lo, hi) from input rows
    [r0, r1). Input and output offsets are in rows from the start of the tensor (whole tensors) or
    of the band buffer; `shift` = (from_row, rows) moves kept rows of the output buffer to its start
    first."""

    layer: int
    lo: int
    hi: int
    r0: int
    r1: int
    in_offset: int
    out_offset: int
    shift: tuple[int, int] | None = None


@dataclass
class Schedule:
    """Every call of a stage in execution order, band buffer sizes, and what it costs."""

    layers: list[Layer]
    band_rows: int
    calls: list[Call] = field(default_factory=list)
    buffer_rows: list[int] = field(default_factory=list)  # per intermediate tensor (layers - 1)
    shifted_bytes: int = 0
    overlap: int = 0  # bytes the stage output may start after its input (tinyflow.compile.ops.Lowered.overlap)

    @property
    def buffer_bytes(self) -> list[int]:
        return [r * self.layers[i].out_row_bytes for i, r in enumerate(self.buffer_rows)]

    @property
    def extra_calls(self) -> int:
        return len(self.calls) - len(self.layers)

    @property
    def cost(self) -> int:
        """Estimated extra instructions over running each layer once on whole tensors."""
        return self.extra_calls * CALL_COST + self.shifted_bytes // SHIFT_BYTES_PER_INSTRUCTION


def schedule(layers: list[Layer], band_rows: int) -> Schedule:
    """The band-by-band execution of `layers` (a chain: layer i's output is layer i+1's input).

    Raises:
        ValueError: band_rows < 1, fewer than two layers, or shapes that do not chain.
    """
    n = len(layers)
    if band_rows < 1 or n < 2:
        raise ValueError(f"a stage needs band_rows >= 1 and two layers or more (got {band_rows}, {n})")
    for a, b in zip(layers, layers[1:]):
        if a.out_rows != b.in_rows or a.out_row_bytes != b.in_row_bytes:
            raise ValueError("the stage's layers do not chain")
    sched = Schedule(layers, band_rows, buffer_rows=[0] * (n - 1))
    windows = [(0, 0)] * (n - 1)  # rows of each intermediate tensor its band buffer holds now
    reads: list[tuple[int, int]] = []  # (call index, input row) of every read of the stage input
    writes: list[tuple[int, int]] = []  # (call index, output rows written so far) of the stage output
    out_rows = layers[-1].out_rows
    for lo in range(0, out_rows, band_rows):
        band = _plan_band(layers, windows, lo, min(lo + band_rows, out_rows))
        for call in band:
            if call.layer == 0:
                reads.append((len(sched.calls), call.r0))
            if call.layer == n - 1:
                writes.append((len(sched.calls), call.hi))
            if call.shift:
                sched.shifted_bytes += call.shift[1] * layers[call.layer].out_row_bytes
            sched.calls.append(call)
        for i, (a, b) in enumerate(windows):
            sched.buffer_rows[i] = max(sched.buffer_rows[i], b - a)
    sched.overlap = _overlap(layers, reads, writes)
    return sched


def _plan_band(layers: list[Layer], windows: list[tuple[int, int]], lo: int, hi: int) -> list[Call]:
    """The calls of one band (output rows [lo, hi) of the last layer); updates `windows`."""
    n = len(layers)
    new: list[tuple[int, int] | None] = [None] * n
    new[n - 1] = (lo, hi)
    target = list(windows)
    for i in range(n - 1, 0, -1):  # backwards: what each layer must add for the next one
        if new[i] is None:
            break
        r0, r1 = layers[i].receptive(*new[i])
        if r1 <= r0:
            raise ValueError(f"layer {i} reads no input rows for output rows {new[i]}")
        cur_lo, cur_hi = windows[i - 1]
        if r0 < cur_lo:
            raise ValueError("receptive fields move backwards")  # cannot happen for strides >= 1
        target[i - 1] = (r0, r1)
        start = max(r0, cur_hi)
        new[i - 1] = (start, r1) if start < r1 else None
    calls = []
    for i in range(n):
        if new[i] is None:
            continue  # its buffer already holds every row the next layer reads: left as it is
        a, b = new[i]
        r0, r1 = layers[i].receptive(a, b)
        in_off = r0 if i == 0 else r0 - windows[i - 1][0]
        shift, out_off = None, a
        if i < n - 1:
            (old_lo, old_hi), t_lo = windows[i], target[i][0]
            if old_hi - t_lo > 0 and t_lo > old_lo:
                shift = (t_lo - old_lo, old_hi - t_lo)
            windows[i] = target[i]
            out_off = a - t_lo
        calls.append(Call(i, a, b, r0, r1, in_off, out_off, shift))
    return calls


def _overlap(layers: list[Layer], reads: list[tuple[int, int]], writes: list[tuple[int, int]]) -> int:
    """Bytes the stage output may start after its input's start although they share memory: every
    output byte lands on input bytes no later call reads (the output trails the input)."""
    rin, rout = layers[0].in_row_bytes, layers[-1].out_row_bytes
    best = layers[0].in_rows * rin  # no later read at all: the output may start anywhere
    for at, rows_written in writes:
        later = [r for k, r in reads if k > at]
        if later:
            best = min(best, min(later) * rin - rows_written * rout)
    return best


__all__ = ["CALL_COST", "Call", "Layer", "Schedule", "schedule"]
