"""Front end plans as C source: the integer tables the firmware twins (firmware/frontends/) read
(pure: config -> text). Here in export/ because emitting C for the device goes through the one C
emitter (compile/cemit.py): its banner and its initializer lists.

Only numbers reach the generated text (no names from a model or a file); the banner's
configuration summary is JSON of numbers and fixed keys, passed through cemit's comment escaping.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

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
from tinyflow.frontends.mapping import PIPELINE_KINDS
from tinyflow.frontends.mfcc import plan_mfcc
from tinyflow.frontends.micro_speech import MicroSpeechPlan, plan_micro_speech


def _array(ctype: str, name: str, values) -> str:
    flat = [int(v) for v in np.asarray(values).ravel()] or [0]
    return f"static const {ctype} {name}[{len(flat)}] = {render_values(ctype, flat)};\n"


def _header(config: FrontendConfig) -> str:
    summary = json.dumps(config_to_dict(config, class_names=False), sort_keys=True)  # names: never in C
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


# -- the pipeline plan: front end + mapping + buffers, for one model (firmware/src/pipeline.c) ----
PLAN_FILE = "frontend_plan.c"
_FEATURE_CTYPES = {"micro_speech": "uint16_t", "mfcc": "int16_t", "imu": "int32_t"}
_C_FILES = {"micro_speech": "micro_speech.c", "mfcc": "mfcc.c", "imu": "imu.c"}
_RENDERERS = {"micro_speech": render_micro_speech, "mfcc": render_mfcc, "imu": render_imu}


def pipeline_defines(config: FrontendConfig | None) -> dict[str, int]:
    """The -D a build with this front end needs (none without one: pipeline.c forwards to the model)."""
    return {} if config is None else {"TINYFLOW_FRONTEND_KIND": PIPELINE_KINDS[config.name]}


def render_pipeline_plan(config: FrontendConfig, model_input, symbol: str = "tinyflow_pipeline_plan") -> str:
    """C source of `tinyflow_pipeline_plan` for a model whose input 0 is `model_input`.

    Args:
        symbol: the plan's name (a package renames it with its model's: several link into one program;
            everything else in the file is static).
        model_input: the model's input tensor (tinyflow.tflite.reader.Tensor or anything with
            shape, dtype, scale, zero_point): its shape gives the rows, its type the mapping.
    Raises:
        UsageError: the input does not hold whole feature rows, or has a type the mapping does not fill.
    """
    from tinyflow.frontends import mapping

    dtype = np.dtype(model_input.dtype).name
    if dtype not in ("float32", "int8", "int16"):
        raise UsageError(
            f"A front end feeds float32, int8 or int16 model inputs; this model's input 0 is {dtype}",
            "Quantize the model with an int8 input, or run it without a front end.",
        )
    rows = mapping.feature_rows(config, model_input.shape)
    width = mapping.feature_width(config)
    scale = float(np.asarray(model_input.scale, dtype=np.float64).reshape(-1)[0]) if dtype != "float32" else None
    plan = mapping.column_plan(config, scale)
    multiplier, exponent = plan.multiplier or (0,) * width, plan.exponent or (0,) * width
    fscale = [plan.gain * 2.0**-k for k in plan.shift]
    frames = mapping.raw_window_frames(config, model_input.shape)
    channels = mapping.raw_channels(config)
    copy_bytes = rows * width * np.dtype(dtype).itemsize
    if not symbol.isidentifier() or not symbol.isascii():
        raise UsageError(f"{symbol!r:.60} is not a C identifier", "Give a plan name of letters, digits and _.")
    body = _RENDERERS[config.name](config, name="tf_pipeline_frontend")
    body = body.replace("\nconst tinyflow_", "\nstatic const tinyflow_")  # file-local: one per model
    text = body.replace('#include "tinyflow/frontend', '#include "tinyflow/pipeline.h"\n#include "tinyflow/frontend', 1)
    text += "\n" + _array("int32_t", "tf_pipeline_mean", plan.mean)
    text += f"static const float tf_pipeline_fscale[{width}] = {render_values('float', fscale)};\n"
    text += _array("int32_t", "tf_pipeline_multiplier", multiplier) + _array("int8_t", "tf_pipeline_exponent", exponent)
    text += f"static int16_t tf_pipeline_raw[{frames * channels}];\n"
    text += f"static {_FEATURE_CTYPES[config.name]} tf_pipeline_features[{rows * width}];\n"
    # int32_t storage: the float32 or int16 copy is aligned for its element type.
    text += f"static int32_t tf_pipeline_copy[{(copy_bytes + 3) // 4}];\n"
    # micro_speech's rows are stateful: the stateless half of each (its filterbank output) is cached.
    cache = config.name == "micro_speech"
    if cache:
        text += f"static uint32_t tf_pipeline_frame_cache[{rows * width}];\n"
    fields = [
        f"{PIPELINE_KINDS[config.name]}u",
        f"{channels}u",
        f"{int(mapping.uses_micro_int8(config))}u",
        f"{mapping.raw_sample_rate(config)}u",
        f"{frames}u",
        f"{rows}u",
        f"{width}u",
        "&tf_pipeline_frontend",
        "tf_pipeline_mean",
        "tf_pipeline_fscale",
        "tf_pipeline_multiplier",
        "tf_pipeline_exponent",
        "tf_pipeline_raw",
        "tf_pipeline_features",
        "(uint8_t *)tf_pipeline_copy",
        f"{copy_bytes}u",
        "tf_pipeline_frame_cache" if cache else "0",
    ]
    return text + f"\nconst tinyflow_pipeline_plan_t {symbol} = {{\n    " + ",\n    ".join(fields) + "};\n"


def frontend_files(config: FrontendConfig, model_input) -> dict[str, str]:
    """{file name: C text}: the plan for `model_input` and the front end C it links
    (firmware/frontends/, copied so a build or an exported folder carries everything it compiles)."""
    from tinyflow.resources import firmware_dir

    files = {PLAN_FILE: render_pipeline_plan(config, model_input)}
    # Only this front end's C: each keeps kilobytes of static scratch a linker may not drop.
    for name in ("fft_q15.c", "fixed.c", _C_FILES[config.name]):
        files[f"tinyflow_frontend_{name}"] = (firmware_dir() / "frontends" / name).read_text()
    return files


def with_frontend(compiled, config: FrontendConfig | None):
    """`compiled` (a tinyflow.compile.CompiledModel) carrying `config`: its sources gain the plan
    and the front end C, and builds add pipeline_defines(compiled.frontend). None: unchanged."""
    from dataclasses import replace

    if config is None:
        return compiled
    if getattr(compiled, "stream_ring", 0):  # the front end writes the whole input: nothing to stream into
        from tinyflow.errors import UsageError

        raise UsageError(
            f"The {config.name} front end cannot feed a model compiled with a streamed input",
            "Raise --max-ram so the input fits whole, or drop the front end.",
        )
    model_input = compiled.model.tensors[compiled.model.inputs[0]]
    sources = {**compiled.sources, **frontend_files(config, model_input)}
    return replace(compiled, sources=sources, frontend=config, defines={**compiled.defines, **pipeline_defines(config)})


# -- what the front end costs a board: flash (tables + code) and static RAM (buffers + scratch) --
# Code and file-static scratch of each C file a front end firmware links (arm-none-eabi-size of
# the object: .text, .bss; -O2, Cortex-M4F, the default TINYFLOW_FRONTEND_MAX_* limits).
# tests/frontends/test_pipeline_fit.py rebuilds the objects and holds these within 10 %.
C_FILE_COST = {
    "fft_q15.c": (1076, 2048),
    "fixed.c": (372, 0),
    "micro_speech.c": (1712, 4880),
    "mfcc.c": (1460, 8712),
    "imu.c": (1092, 8196),
    "pipeline.c": (1837, 1636),  # with a front end; without one it forwards (52 B, nothing static)
}
_CTYPE_BYTES = {"int8_t": 1, "uint8_t": 1, "int16_t": 2, "uint16_t": 2, "int32_t": 4, "uint32_t": 4}
_CTYPE_BYTES.update({"uint64_t": 8, "int64_t": 8, "float": 4, "tinyflow_cpx16_t": 4})
_DECLARED = re.compile(r"^static (const )?(\w+) \w+\[(\d+)\]", re.M)


@dataclass(frozen=True)
class FrontendFootprint:
    """Bytes a front end adds to a firmware: flash = tables + code, RAM = buffers + scratch."""

    tables: int  # the plan's const arrays (frontend_plan.c)
    code: int  # the front end C + pipeline.c
    buffers: int  # the plan's static arrays: raw window, features, input copy, frame cache
    scratch: int  # the front end C's file-static scratch + pipeline.c's

    @property
    def flash(self) -> int:
        return self.tables + self.code

    @property
    def ram(self) -> int:
        return self.buffers + self.scratch


def plan_footprint(plan_text: str, config: FrontendConfig) -> FrontendFootprint:
    """The footprint of a rendered frontend_plan.c: its arrays as declared, and the fixed cost of
    the C files it links (C_FILE_COST)."""
    tables = buffers = 0
    for const, ctype, count in _DECLARED.findall(plan_text):
        size = _CTYPE_BYTES[ctype] * int(count)
        tables, buffers = (tables + size, buffers) if const else (tables, buffers + size)
    files = ("fft_q15.c", "fixed.c", _C_FILES[config.name], "pipeline.c")
    code = sum(C_FILE_COST[f][0] for f in files)
    scratch = sum(C_FILE_COST[f][1] for f in files)
    return FrontendFootprint(tables=tables, code=code, buffers=buffers, scratch=scratch)


def frontend_footprint(config: FrontendConfig | None, model_input) -> FrontendFootprint | None:
    """What the front end of a model whose input 0 is `model_input` costs (None without one)."""
    if config is None:
        return None
    return plan_footprint(render_pipeline_plan(config, model_input), config)
