"""The Cortex-M4 lean pointwise kernel (firmware/kernels/cortex_m4/pw_lean.h, its table from
tinyflow/compile/ops/pw_lean.py), cross-built and run on QEMU: bit-identical to the TFLM reference.

One model holds a branch per path: the assembly blocks for 8-, 16-, 32- and 64-deep layers, the C
blocks with and without the activation clamp, odd channel and pixel counts, stride 2, extreme zero
points and multipliers, dead channels whose huge bias makes their output constant, and layers the
kernel must refuse (a scale above 1, an unprovable accumulator, depths not a multiple of 4). It
runs twice: with the filters in the table, and with a table budget that leaves only the per-channel
words (the doubled-input variant). Each run first checks that the layers take the path meant."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinyflow.tflite.writer import ModelBuilder

pytestmark = [pytest.mark.arm, pytest.mark.qemu, pytest.mark.slow]

BIG = [2**31 - 1, -(2**31), 2**30, -(2**30) - 1, 2**30 - 1, -(2**30), 1_500_000_000, -1_500_000_000]


def _conv(mb, rng, ins, outs, hwc, oc, stride=1, in_q=(0.05, -7), out_q=None, w_scales=None, bias=None, act="NONE"):
    """One 1x1 CONV_2D branch: its own input, its own output."""
    h, w, c = hwc
    x = mb.tensor([1, h, w, c], "int8", scale=in_q[0], zero_point=in_q[1])
    ws = np.asarray(w_scales if w_scales is not None else rng.uniform(0.002, 0.02, oc))
    wt = mb.tensor(
        [oc, 1, 1, c],
        "int8",
        scale=[float(s) for s in ws],
        zero_point=[0] * oc,
        data=rng.integers(-127, 128, (oc, 1, 1, c), dtype=np.int8),
    )
    bv = np.asarray(bias if bias is not None else rng.integers(-3000, 3000, oc), dtype=np.int32)
    b = mb.tensor([oc], "int32", scale=list(ws * in_q[0]), zero_point=[0] * oc, data=bv)
    oq = out_q or (float(rng.uniform(0.02, 0.08)), int(rng.integers(-20, 20)))
    oh, ow = (h - 1) // stride + 1, (w - 1) // stride + 1
    y = mb.tensor([1, oh, ow, oc], "int8", scale=oq[0], zero_point=oq[1])
    mb.op("CONV_2D", [x, wt, b], [y], padding="VALID", stride_h=stride, stride_w=stride, fused_activation_function=act)
    ins.append(x)
    outs.append(y)


def lean_model(seed=3, refused=False) -> tuple[bytes, list[tuple[str, bool | str]]]:
    """The model (at most 16 outputs: the device protocol's limit) and per branch what it exercises
    and whether the lean kernel takes it (True, False, "weights": only with the filter in the table):
    the layers it takes, or (refused) those it must not."""
    rng = np.random.default_rng(seed)
    mb, ins, outs, layers = ModelBuilder(), [], [], []

    def conv(what, lean, *args, **kw):
        layers.append((what, lean))
        _conv(mb, rng, ins, outs, *args, **kw)

    if refused:
        conv("a scale above 1", False, (3, 2, 16), 4, in_q=(0.5, 3), w_scales=[0.5, 0.01, 0.2, 0.01], out_q=(0.05, 0))
        big = dict(bias=BIG, w_scales=[2e-8] * 8, in_q=(0.05, 5), out_q=(0.05, 1))
        conv("huge biases, outputs vary", False, (2, 2, 8), 8, **big)
        for k in (1, 3, 6, 13, 27, 39):  # not a multiple of 4: the vector path
            conv(f"{k} deep", False, (3, 1, k), int(rng.integers(1, 6)))
        return mb.build(ins, outs), layers

    full = (0.05, -128)  # output zero point -128: RELU's range is the whole int8 range, no clamp
    conv("8 deep, 9 pixels (odd)", True, (3, 3, 8), 16, out_q=full, act="RELU")
    conv("16 deep, odd channels", True, (5, 3, 16), 9)
    conv("32 deep, stride 2, 3 pixels", True, (3, 5, 32), 6, stride=2)
    conv("64 deep, odd pixels and channels", True, (3, 3, 64), 5, in_q=(0.03, 127), out_q=(0.3, 127))
    conv("16 deep, clamped (RELU6)", True, (3, 2, 16), 4, act="RELU6")
    conv("8 deep, clamped (RELU)", True, (2, 3, 8), 6, out_q=(0.05, 11), act="RELU")
    for k in (4, 12, 20, 28, 40):  # the C loop: odd words and pairs of words
        conv(f"{k} deep", True, (3, 1, k), int(rng.integers(2, 9)), act=str(rng.choice(["NONE", "RELU"])))
    conv("2 channels, 1 pixel", True, (1, 1, 24), 2)
    # Multipliers at the ends (scale = 500 w here): 0 with shift 0 (below 2^-31, flushed), shifts
    # -31, -30 and -1 (0.45).
    ends = [1e-13, 9.0e-13, 1e-12, 5e-12, 9e-4, 2**-12]
    conv("extreme multipliers", True, (3, 2, 16), 6, w_scales=ends, out_q=(1e-4, 9))
    conv(
        "input zero point -128",
        True,
        (2, 2, 8),
        4,
        in_q=(0.5, -128),
        w_scales=[0.25, 0.125, 2**-10, 2**-20],
        out_q=(1.0, 127),
    )
    # Dead channels (ReLU of a huge negative bias: always the zero point; a huge positive one: 127).
    # (Not so close to the int32 ends that the reference's accumulator could wrap.)
    dead = [-(2**31) + 2**20, -1_500_000_000, 2**31 - 2**20, 1_500_000_000, 100, -100, -(2**30) - 5, 7]
    conv(
        "dead channels",
        "weights",  # their zero filter in the table makes them constant: lean only with the filter there
        (3, 1, 8),
        8,
        bias=dead,
        w_scales=[2**-9] * 8,
        in_q=(0.05, 0),
        out_q=(0.05, -128),
        act="RELU",
    )
    return mb.build(ins, outs), layers


def _tails(text: str) -> list[list[int]]:
    """The DSP tails of the generated model.c, in op order."""
    from tinyflow.compile.kernels import VARIANT_GUARDS

    guard = re.escape(VARIANT_GUARDS["cortex_m4"])
    return [
        [int(v) for v in m.group(1).split(",")[:3]]
        for m in re.finditer(r"#if " + guard + r"\n  ([-0-9,\s]+),\n#endif", text)
    ]


def _run(compiled, model: bytes, layers, name: str) -> None:
    from test_conv_m4_qemu import compare_on_qemu

    from tinyflow.tflite import read_model

    m = read_model(model)
    rng = np.random.default_rng(11)
    samples = [[rng.integers(-128, 128, m.tensors[i].shape, dtype=np.int8) for i in m.inputs] for _ in range(2)]
    samples.append([np.where(rng.random(m.tensors[i].shape) < 0.5, -128, 127).astype(np.int8) for i in m.inputs])
    compare_on_qemu(compiled, model, samples, name, label=lambda k: layers[k][0])


def _check_paths(compiled, layers, weights: bool) -> None:
    from tinyflow.compile.ops.pw_lean import PWL_MAGIC, PWL_WEIGHTS

    lean = [t[2] for t in _tails("\n".join(compiled.sources.values())) if t[0] == PWL_MAGIC]
    assert len(lean) == sum(ok is True or (ok == "weights" and weights) for _, ok in layers)
    assert all(flags == (PWL_WEIGHTS if weights else 0) for flags in lean)


def test_lean_pointwise_with_the_filter_in_the_table_is_bit_identical_on_qemu():
    from tinyflow.compile import compile_model

    model, layers = lean_model()
    compiled = compile_model(model, name="lean")
    _check_paths(compiled, layers, weights=True)
    _run(compiled, model, layers, "lean")


def test_lean_pointwise_with_only_the_channel_words_in_the_table_is_bit_identical_on_qemu(monkeypatch):
    from tinyflow.compile import compile_model
    from tinyflow.compile.ops import pw_lean

    model, layers = lean_model()
    # As when the board's flash has room for no layer's filter: the inputs are widened doubled.
    monkeypatch.setattr(pw_lean, "fits_weights", lambda *_: False)
    compiled = compile_model(model, name="lean_f")
    _check_paths(compiled, layers, weights=False)
    _run(compiled, model, layers, "lean_f")


def test_layers_the_lean_kernel_refuses_stay_bit_identical_on_qemu():
    from tinyflow.compile import compile_model

    model, layers = lean_model(refused=True)
    compiled = compile_model(model, name="lean_r")
    _check_paths(compiled, layers, weights=True)
    _run(compiled, model, layers, "lean_r")


def test_lean_pointwise_c_twin_of_the_assembly_is_bit_identical_on_qemu():
    from tinyflow.compile import compile_model

    model, layers = lean_model()
    compiled = compile_model(model, name="lean_c")
    compiled.defines["TINYFLOW_M4_ASM"] = 0  # the C loops unoptimised builds take (simd.h)
    _check_paths(compiled, layers, weights=True)
    _run(compiled, model, layers, "lean_c")
