"""Dilated convolutions the converter wrapped in SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND.

`prepare_dilated` runs before lowering: it gives the tensors between the two ops their real batch
(tinyflow.compile.batch_shapes), then fuses SPACE_TO_BATCH_ND -> CONV_2D -> BATCH_TO_SPACE_ND
(and the Conv1D form, with EXPAND_DIMS / RESHAPE around the conv) back into one dilated CONV_2D
where that is exactly what the three ops compute. Otherwise the ops run as they are
(tinyflow.compile.ops.space_batch).

When is it exact? The wrapped conv (stride 1, dilation 1, VALID) runs on the block-grid phases of
the input padded by the SPACE_TO_BATCH_ND paddings; each output pixel BATCH_TO_SPACE_ND keeps is
the dilated conv over that padded input, starting `padding before - crop before` pixels before the
input. A dilated conv with that padding reads the same taps. The padding itself differs: the conv
skips padded taps (as if they held the zero point) while SPACE_TO_BATCH_ND stores 0 there (as
TFLM does). So the fusion needs an input zero point of 0, or no kept output reading padding (the
VALID case, where the paddings only round sizes up to the block, and Keras' causal Conv1D, whose
PAD comes before SPACE_TO_BATCH_ND). Quantization must pass through both ops unchanged.

DEPTHWISE_CONV_2D is not fused, by measurement on sim://qemu-m4: the Cortex-M4 depthwise kernel's
fast 3x3 path takes dilation 1 only, so a dilated 3x3 depthwise (24x24x16) runs 2.84 M instructions
against 1.59 M for the same layer as SPACE_TO_BATCH_ND + depthwise + BATCH_TO_SPACE_ND.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tinyflow.compile.batch_shapes import resolve_batch_shapes
from tinyflow.compile.quant import out_size, padding
from tinyflow.tflite.reader import Op

S2B, B2S = "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND"


def prepare_dilated(model, ops: list, values: dict):
    """(model, ops) with real batch sizes and exact dilated-conv fusions; model is a copy when changed."""
    model = resolve_batch_shapes(model, ops, values)
    if not any(op.name == S2B for op in ops):
        return model, ops
    uses: dict[int, int] = {}
    for op in ops:
        for i in op.inputs:
            uses[i] = uses.get(i, 0) + 1
    for i in model.outputs:
        uses[i] = uses.get(i, 0) + 2  # a model output is never an internal tensor to drop
    tensors, out, k = list(model.tensors), [], 0
    while k < len(ops):
        for span, fuse in ((3, _fuse_2d), (5, _fuse_1d)):
            fused = fuse(ops[k : k + span], tensors, values, uses) if k + span <= len(ops) else None
            if fused:
                out += fused
                k += span
                break
        else:
            out.append(ops[k])
            k += 1
    if len(out) == len(ops):
        return model, ops
    return replace(model, tensors=tensors), out


def _chain_ok(chain, uses) -> bool:
    """Each op reads the previous one's output, which nothing else reads."""
    for a, b in zip(chain, chain[1:]):
        if len(a.outputs) != 1 or not b.inputs or b.inputs[0] != a.outputs[0] or uses.get(a.outputs[0], 0) != 1:
            return False
    return True


def _same_quant(a, b) -> bool:
    return (
        a.type_name == b.type_name and np.array_equal(a.scale, b.scale) and np.array_equal(a.zero_point, b.zero_point)
    )


def _constants(s2b, b2s, values):
    """(block, paddings, crops) as int lists when all are constants and the two blocks agree, else None."""
    got = [values.get(i) for i in (s2b.inputs[1], s2b.inputs[2], b2s.inputs[1], b2s.inputs[2])]
    if any(v is None for v in got) or not all(np.issubdtype(np.asarray(v).dtype, np.integer) for v in got):
        return None
    block, pads, block2, crops = (np.asarray(v).astype(np.int64) for v in got)
    if block.tolist() != block2.tolist() or pads.size != 2 * block.size or crops.size != 2 * block.size:
        return None
    return block.tolist(), pads.reshape(-1, 2).tolist(), crops.reshape(-1, 2).tolist()


def _axis_mode(size: int, taps: int, block: int, pad: list[int], crop: list[int], out: int) -> set[str]:
    """The conv paddings ("VALID", "SAME") that give this axis the wrapped ops' window and size."""
    before = pad[0] - crop[0]
    if block < 1 or min(pad + crop) < 0 or before < 0 or size < 1:
        return set()
    modes = set()
    if before == 0 and out_size("VALID", size, taps, 1, block) == out:
        modes.add("VALID")
    if out_size("SAME", size, taps, 1, block) == out and padding(1, block, size, taps, out) == before:
        modes.add("SAME")
    return modes


def _dilated_options(conv, x, axes) -> dict | None:
    """The fused conv's options, or None when the wrapped conv is not a plain VALID conv or no
    padding mode is exact on every axis (see the module docstring)."""
    o = conv.options
    plain = all(int(o.get(k, 1)) == 1 for k in ("stride_h", "stride_w", "dilation_h_factor", "dilation_w_factor"))
    if not plain or o.get("padding", "SAME") != "VALID":
        return None
    modes = {"VALID", "SAME"}
    for axis in axes:
        modes &= _axis_mode(*axis)
    zero_point = int(x.zero_point[0]) if len(x.zero_point) else 0
    mode = "VALID" if "VALID" in modes else "SAME" if "SAME" in modes and zero_point == 0 else None
    if mode is None:
        return None
    return {**o, "padding": mode, "dilation_h_factor": axes[0][2], "dilation_w_factor": axes[1][2]}


def _fuse_2d(chain, tensors, values, uses):
    """[S2B, CONV_2D, B2S] on 4-D tensors -> [dilated CONV_2D], or None."""
    s2b, conv, b2s = chain
    if (s2b.name, conv.name, b2s.name) != (S2B, "CONV_2D", B2S) or not _chain_ok(chain, uses):
        return None
    consts = _constants(s2b, b2s, values)
    x, t1, t2, y = (tensors[i] for i in (s2b.inputs[0], s2b.outputs[0], conv.outputs[0], b2s.outputs[0]))
    filt = tensors[conv.inputs[1]]
    if consts is None or len(x.shape) != 4 or len(y.shape) != 4 or len(filt.shape) != 4 or len(consts[0]) != 2:
        return None
    if not (_same_quant(x, t1) and _same_quant(t2, y)):
        return None
    (bh, bw), pads, crops = consts
    axes = [
        (x.shape[1], filt.shape[1], bh, pads[0], crops[0], y.shape[1]),
        (x.shape[2], filt.shape[2], bw, pads[1], crops[1], y.shape[2]),
    ]
    options = _dilated_options(conv, x, axes)
    if options is None:
        return None
    return [Op(conv.index, "CONV_2D", (s2b.inputs[0], *conv.inputs[1:]), (b2s.outputs[0],), options, conv.version)]


def _fuse_1d(chain, tensors, values, uses):
    """[S2B, EXPAND_DIMS, CONV_2D, RESHAPE, B2S] on 3-D tensors (a Keras Conv1D) -> the input
    viewed as 1 x T, a conv dilated along T, the output viewed back; or None."""
    s2b, expand, conv, reshape, b2s = chain
    names = tuple(op.name for op in chain)
    if names != (S2B, "EXPAND_DIMS", "CONV_2D", "RESHAPE", B2S) or not _chain_ok(chain, uses):
        return None
    consts = _constants(s2b, b2s, values)
    x, t1, e, c, r, y = (tensors[i] for i in (s2b.inputs[0], *(op.outputs[0] for op in chain)))
    filt = tensors[conv.inputs[1]]
    if consts is None or len(x.shape) != 3 or len(y.shape) != 3 or len(consts[0]) != 1 or len(filt.shape) != 4:
        return None
    # EXPAND_DIMS must insert the unit height (N, T, C) -> (N, 1, T, C) the conv runs along T.
    if list(e.shape) != [t1.shape[0], 1, *t1.shape[1:]] or filt.shape[1] != 1 or len(r.shape) != 3:
        return None
    if not (_same_quant(x, t1) and _same_quant(x, e) and _same_quant(c, r) and _same_quant(r, y)):
        return None
    (block,), (pads,), (crops,) = consts
    options = _dilated_options(
        conv, x, [(1, 1, 1, [0, 0], [0, 0], 1), (x.shape[1], filt.shape[2], block, pads, crops, y.shape[1])]
    )
    if options is None:
        return None
    x4 = _view(tensors, x, [x.shape[0], 1, x.shape[1], x.shape[2]], "dilated_in")
    y4 = _view(tensors, y, [y.shape[0], 1, y.shape[1], y.shape[2]], "dilated_out")
    return [
        Op(expand.index, "EXPAND_DIMS", (x.index, expand.inputs[1]), (x4,), dict(expand.options), expand.version),
        Op(conv.index, "CONV_2D", (x4, *conv.inputs[1:]), (y4,), options, conv.version),
        Op(reshape.index, "RESHAPE", (y4,), (y.index,), {}, reshape.version),
    ]


def _view(tensors: list, like, shape: list[int], suffix: str) -> int:
    """A new activation tensor: `like` seen with another shape (the planner aliases it)."""
    index = len(tensors)
    tensors.append(
        replace(like, index=index, name=f"{like.name}/{suffix}", shape=tuple(shape), shape_signature=tuple(shape))
    )
    return index
