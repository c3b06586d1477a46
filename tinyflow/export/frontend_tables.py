"""Front end plans as C source: the integer tables the firmware twins (firmware/frontends/) read
(pure: config -> text). Here in export/ because emitting C for the device goes through the one C
emitter (compile/cemit.py): its banner and its initializer lists.

Only numbers reach the generated text (no names from a model or a file); the banner's
configuration summary is JSON of numbers and fixed keys, passed through cemit's comment escaping.
"""

from __future__ import annotations

import json

import numpy as np

from tinyflow.compile.cemit import generated_banner, render_values
from tinyflow.errors import UsageError
from tinyflow.frontends.config import (
    IMU_FEATURES,
    FrontendConfig,
    ImuConfig,
    MfccConfig,
    MicroSpeechConfig,
    config_to_dict,
    validate,
)
from tinyflow.frontends.fixed import complex_plan, real_twiddles
from tinyflow.frontends.mfcc import plan_mfcc
from tinyflow.frontends.micro_speech import MicroSpeechPlan, plan_micro_speech


def _array(ctype: str, name: str, values) -> str:
    flat = [int(v) for v in np.asarray(values).ravel()] or [0]
    return f"static const {ctype} {name}[{len(flat)}] = {render_values(ctype, flat)};\n"


def _header(config: FrontendConfig) -> str:
    summary = json.dumps(config_to_dict(config), sort_keys=True)
    return generated_banner(f"front end configuration {summary}", command="tinyflow firmware generate") + "\n"


def _cpx_array(name: str, pairs: np.ndarray) -> str:
    items = [f"{{{int(r)}, {int(i)}}}" for r, i in np.asarray(pairs).reshape(-1, 2)]
    rows = [", ".join(items[k : k + 8]) for k in range(0, len(items), 8)]
    return f"static const tinyflow_cpx16_t {name}[{len(items)}] = {{\n    " + ",\n    ".join(rows) + "};\n"


def render_fft_plan(real_points: int, prefix: str) -> tuple[str, str]:
    """(table definitions, initializer of a tinyflow_fft_plan_t) for a real FFT of real_points."""
    nfft = real_points // 2
    tw, order, factors = complex_plan(nfft)
    tables = _array("uint16_t", f"{prefix}_order", order)
    tables += _cpx_array(f"{prefix}_twiddles", tw) + _cpx_array(f"{prefix}_super", real_twiddles(real_points))
    radix = ", ".join(str(p) for p, _ in factors)
    ms = ", ".join(str(m) for _, m in factors)
    init = f"{{{nfft}u, {len(factors)}u, {{{radix}}}, {{{ms}}}, {prefix}_order, {prefix}_twiddles, {prefix}_super}}"
    return tables, init


def _bands(plan: MicroSpeechPlan) -> tuple[list[int], list[int], list[int]]:
    """Sparse filterbank: per band its bins' weights packed one after another."""
    offsets, weights, unweights, at = [], [], [], 0
    for chan, (start, width) in enumerate(zip(plan.channel_starts, plan.channel_widths)):
        offsets.append(at)
        weights += plan.weights[chan, start : start + width].tolist()
        unweights += plan.unweights[chan, start : start + width].tolist()
        at += width
    return offsets, weights, unweights


def render_micro_speech(config: MicroSpeechConfig, name: str = "tinyflow_micro_speech_plan") -> str:
    """C source defining `const tinyflow_micro_speech_plan_t <name>` for `config`."""
    if not name.isidentifier() or not name.isascii():
        raise UsageError(f"{name!r:.60} is not a C identifier", "Give a plan name of letters, digits and _.")
    plan = plan_micro_speech(config)
    fft_tables, fft_init = render_fft_plan(plan.fft_size, "ms_fft")
    offsets, weights, unweights = _bands(plan)
    text = _header(config) + '#include "tinyflow/frontend_micro_speech.h"\n\n'
    text += _array("int16_t", "ms_window", plan.window) + fft_tables
    text += _array("uint16_t", "ms_band_start", plan.channel_starts)
    text += _array("uint16_t", "ms_band_width", plan.channel_widths)
    text += _array("uint16_t", "ms_band_offset", offsets)
    text += _array("int16_t", "ms_weights", weights) + _array("int16_t", "ms_unweights", unweights)
    text += _array("int16_t", "ms_gain_lut", plan.gain_lut)
    fields = [
        f"{plan.window_size}u",
        f"{plan.step}u",
        f"{len(plan.channel_starts) - 1}u",
        "ms_window",
        fft_init,
        "ms_band_start",
        "ms_band_width",
        "ms_band_offset",
        "ms_weights",
        "ms_unweights",
        f"{plan.even_smoothing}u",
        f"{plan.odd_smoothing}u",
        f"{plan.min_signal_remaining}u",
        f"{plan.smoothing_bits}u",
        f"{int(plan.enable_pcan)}u",
        f"{int(plan.enable_log)}u",
        f"{plan.scale_shift}u",
        str(plan.snr_shift),
        str(plan.correction_bits),
        "ms_gain_lut",
    ]
    return text + f"\nconst tinyflow_micro_speech_plan_t {name} = {{\n    " + ",\n    ".join(fields) + "};\n"


def render_imu(config: ImuConfig, name: str = "tinyflow_imu_plan") -> str:
    """C source defining `const tinyflow_imu_plan_t <name>` for `config`."""
    if not name.isidentifier() or not name.isascii():
        raise UsageError(f"{name!r:.60} is not a C identifier", "Give a plan name of letters, digits and _.")
    validate(config)
    fft_tables, fft_init = render_fft_plan(config.window, "imu_fft")
    text = _header(config) + '#include "tinyflow/frontend_imu.h"\n\n'
    text += _array("int16_t", "imu_scale", config.scale_q15) + fft_tables
    use = [int(f in config.features) for f in IMU_FEATURES]
    fields = [config.axes, config.window, config.step, config.fft_bins, config.window.bit_length() - 1, *use]
    body = ", ".join(f"{v}u" for v in fields) + f", imu_scale, {fft_init}"
    return text + f"\nconst tinyflow_imu_plan_t {name} = {{{body}}};\n"


def render_mfcc(config: MfccConfig, name: str = "tinyflow_mfcc_plan") -> str:
    """C source defining `const tinyflow_mfcc_plan_t <name>` for `config`."""
    if not name.isidentifier() or not name.isascii():
        raise UsageError(f"{name!r:.60} is not a C identifier", "Give a plan name of letters, digits and _.")
    plan = plan_mfcc(config)
    fft_tables, fft_init = render_fft_plan(plan.fft_size, "mfcc_fft")
    offsets, weights, at = [], [], 0
    for band, start, width in zip(plan.mel, plan.band_starts, plan.band_widths):
        offsets.append(at)
        weights += band[start : start + width].tolist()
        at += width
    text = _header(config) + '#include "tinyflow/frontend_mfcc.h"\n\n'
    text += _array("int16_t", "mfcc_window", plan.window) + fft_tables
    text += _array("uint16_t", "mfcc_band_start", plan.band_starts)
    text += _array("uint16_t", "mfcc_band_width", plan.band_widths)
    text += _array("uint16_t", "mfcc_band_offset", offsets)
    text += _array("int16_t", "mfcc_weights", weights)
    text += _array("uint64_t", "mfcc_eps", plan.eps)
    text += _array("int32_t", "mfcc_dct", plan.dct)
    head = f"{plan.window_size}u, {plan.step}u, {config.num_mel_bins}u, {config.num_mfcc}u, {plan.out_frac_bits}u"
    rest = "mfcc_band_start, mfcc_band_width, mfcc_band_offset, mfcc_weights, mfcc_eps, mfcc_dct"
    return text + f"\nconst tinyflow_mfcc_plan_t {name} = {{{head}, mfcc_window, {fft_init}, {rest}}};\n"
