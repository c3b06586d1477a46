"""The host twin of firmware/src/monitor.c: the same statistics from arrays, and the reference
profile `<model>.monitor.json` computed from a dataset (the model's quantized inputs, the
outputs of a host run).

`observe()` is bit-exact with the device for the same inputs and outputs (a test drives INFERs on
sim://host and compares): integer sums and shift-based bins, and the top-1 confidence computed in
float32 the way the C code does.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from tinyflow.errors import DataError
from tinyflow.monitor.profile import BINS, FEATURE_DTYPES, Profile, save_profile

MAX_COLUMNS = 64  # TINYFLOW_MONITOR_COLUMNS
MAX_CLASSES = 32  # TINYFLOW_MONITOR_CLASSES
SAMPLE_ROWS = 1024  # TINYFLOW_MONITOR_SAMPLE_ROWS
# dtype -> (offset to unsigned, shift to 16 bins, unsigned maximum)
_BINNING = {"int8": (128, 4, 255), "uint8": (0, 4, 255), "int16": (32768, 12, 65535)}


def reference_path(model_path: str | Path) -> Path:
    """Where the reference profile of a model lives: next to it, `<model>.monitor.json`."""
    p = Path(model_path)
    return p.with_name(p.stem + ".monitor.json")


def sample_step(rows: int) -> int:
    """Row step of the monitor's subsample (monitor.c): every k-th row from row 0 once an input has
    more than SAMPLE_ROWS rows, k = ceil(rows / SAMPLE_ROWS), so the device's cost stays bounded."""
    return -(-rows // SAMPLE_ROWS) if rows > SAMPLE_ROWS else 1


def _feature_stats(x: np.ndarray, dtype: str, dim: int, max_columns: int) -> dict:
    if dtype not in FEATURE_DTYPES:
        return {}
    cols = min(dim, max_columns)
    v = x.reshape(len(x), -1, dim)
    v = v[:, :: sample_step(v.shape[1]), :cols].astype(np.int64).reshape(-1, cols)
    offset, shift, top = _BINNING[dtype]
    u = v + offset
    hist = np.stack([np.bincount(u[:, c] >> shift, minlength=BINS)[:BINS] for c in range(cols)]) if cols else None
    return {
        "count": np.full(cols, v.shape[0], np.int64),
        "sum": v.sum(axis=0),
        "sumsq": (v * v).sum(axis=0).astype(np.float64),
        "hist": hist if hist is not None else np.zeros((0, BINS), np.int64),
        "elements": int(v.size),
        "saturated": int(((u == 0) | (u == top)).sum()),
    }


def top1(outputs: np.ndarray, scale: float, zero_point: int) -> tuple[np.ndarray, np.ndarray]:
    """(class, confidence) of each row of output 0, as monitor.c computes them: the first largest
    value compared in its own type (a positive scale keeps the order), then dequantized in float32."""
    o = outputs.reshape(len(outputs), -1)
    best = np.argmax(o, axis=1)  # the first maximum, as the C loop's strict '>'
    top = o[np.arange(len(o)), best]
    if o.dtype.kind == "f":
        return best, top.astype(np.float32)
    if scale > 0:
        return best, (top.astype(np.int64) - zero_point).astype(np.float32) * np.float32(scale)
    return best, top.astype(np.float32)


def confidence_bins(conf: np.ndarray) -> np.ndarray:
    """Bin of each top-1 confidence: trunc(conf x 16) in float32, clamped to 0..15 (NaN -> 0)."""
    c = np.asarray(conf, np.float32)
    with np.errstate(invalid="ignore"):
        scaled = np.where(c > 0, c, np.float32(0)) * np.float32(BINS)
        return np.clip(np.nan_to_num(scaled, nan=0.0).astype(np.int64), 0, BINS - 1)


def observe(
    inputs: np.ndarray,
    outputs: np.ndarray,
    *,
    output_scale: float = 0.0,
    output_zero_point: int = 0,
    max_columns: int = MAX_COLUMNS,
    max_classes: int = MAX_CLASSES,
) -> Profile:
    """The monitor statistics of N inferences.

    Args:
        inputs: (N, *input shape) the model's input tensor values (its dtype: int8/uint8/int16
            give feature statistics, float32 none); the last axis is the feature axis.
        outputs: (N, *output 0 shape) output 0 as the model produced it.
        output_scale, output_zero_point: output 0's quantization (0 scale: values as they are).
    """
    inputs, outputs = np.asarray(inputs), np.asarray(outputs)
    if len(inputs) != len(outputs):
        raise DataError(f"{len(inputs)} inputs but {len(outputs)} outputs", "Give one output per input.")
    dtype = inputs.dtype.name
    dim = int(inputs.shape[-1]) if inputs.ndim > 1 else 1
    feats = _feature_stats(inputs, dtype, dim, max_columns)
    n_out = int(np.prod(outputs.shape[1:], dtype=np.int64))
    classes = min(n_out, max_classes)
    best, conf = top1(outputs, output_scale, output_zero_point) if len(outputs) else (np.zeros(0, int), np.zeros(0))
    profile = Profile(
        input_dtype=dtype,
        output_dtype=outputs.dtype.name,
        feature_dim=dim,
        windows=len(inputs),
        elements=feats.get("elements", 0),
        saturated=feats.get("saturated", 0),
        confidence_hist=np.bincount(confidence_bins(conf), minlength=BINS).astype(np.int64),
        class_counts=np.bincount(best[best < classes], minlength=classes).astype(np.int64),
        class_other=int((best >= classes).sum()),
    )
    if feats:
        profile.count, profile.sum, profile.sumsq, profile.hist = (
            feats["count"],
            feats["sum"],
            feats["sumsq"],
            feats["hist"],
        )
    return profile


def reference_profile(model, x, *, runtime: str = "tflm", quantized: bool = False, class_names=()) -> Profile:
    """The reference profile of `model` (.tflite bytes or path) over the samples `x`.

    Args:
        x: float samples (quantized here with the input's scale and zero point, as the host
            pipeline does), or the model's input values when `quantized`.
        runtime: the host runtime that computes the outputs (tinyflow.runtimes KINDS).
    """
    from tinyflow.runtimes import open_runtime, quantize_input
    from tinyflow.tflite import read_model

    data = Path(model).read_bytes() if isinstance(model, (str, Path)) else bytes(model)
    m = read_model(data)
    tin, tout = m.tensors[m.inputs[0]], m.tensors[m.outputs[0]]
    x = np.asarray(x)
    if not quantized:
        detail = {"dtype": tin.dtype, "quantization": (_first(tin.scale, 1.0), int(_first(tin.zero_point, 0)))}
        x = quantize_input(x, detail)
    x = x.astype(tin.dtype).reshape(len(x), *tin.shape)
    with open_runtime(runtime, data) as rt:
        outs = np.stack([o[0] for o in rt.run(list(x))]) if len(x) else np.zeros((0, *tout.shape), tout.dtype)
    profile = observe(x, outs, output_scale=_first(tout.scale, 0.0), output_zero_point=int(_first(tout.zero_point, 0)))
    profile.model_sha256 = hashlib.sha256(data).hexdigest()
    profile.class_names = [str(n) for n in class_names]
    return profile


def write_reference(model_path: str | Path, x, source: str = "", **kwargs) -> Path:
    """Compute the reference profile of the model file over `x` and write it next to the model."""
    profile = reference_profile(model_path, x, **kwargs)
    out = reference_path(model_path)
    profile.source = f"{len(x)} samples" + (f" of {source}" if source else "")
    save_profile(profile, out)
    return out


def _first(values, default: float) -> float:
    return float(values[0]) if len(values) else default


def write_calibration_reference(model_path: str | Path, data: str, samples: int = 200, seed: int = 0) -> Path:
    """The reference profile of a just-quantized model from the samples it was calibrated on.

    The calibration subset of the train split (the same `representative` draw quantize makes),
    through the model's front end when it has a sidecar, quantized and run on the host (TFLM).
    """
    from tinyflow.data import representative
    from tinyflow.model.pipeline import load_splits, model_frontend

    frontend = model_frontend(model_path)
    train = load_splits(data, seed, frontend=frontend)[0] if frontend is not None else load_splits(data, seed)[0]
    return write_reference(
        model_path, representative(train, samples, seed), class_names=train.class_names, source=f"{data} (train split)"
    )
