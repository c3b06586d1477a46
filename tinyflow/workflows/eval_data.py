"""Evaluation inputs: a dataset spec turned into the exact tensors a model's input expects.

The spec is parsed by `tinyflow.data.parse_spec` like every verb's: the built-in datasets,
`.npz`/`.csv` files, and `random:N` (N seeded random tensors over the input dtype's whole range,
for parity checks of third-party models that come without data; `tinyflow.data.random_samples`).
Float samples are quantized on the host with the model's input scale and zero point, exactly as
TFLite's QUANTIZE op does (round half away from zero, then saturate).

Samples are made one at a time when the link asks for them (`EvalData.inputs` is a lazy
sequence): every size check runs before the first input is made, and `random:N` costs nothing
until it is streamed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tinyflow.data import (
    MAX_RANDOM_SAMPLES,
    DatasetSpec,
    Samples,
    check_labels,
    check_seed,
    load_dataset,
    parse_spec,
    random_samples,
)
from tinyflow.data import split as split_dataset
from tinyflow.errors import DataError, UsageError

MAX_SAMPLES = MAX_RANDOM_SAMPLES  # samples of one run: each one's results stay in memory for the report
MAX_SAMPLE_BYTES = 64 << 20  # one sample's inputs (the largest MCU models take ~100 KB)
RESULTS_BUDGET = 1 << 30  # bytes of per-sample results kept (device and reference outputs)
_RESULT_OVERHEAD = 512  # Python bookkeeping per kept sample (lists, array headers, journal entry)


@dataclass(frozen=True)
class TensorSpec:
    """One model input or output as the host sees it."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    scale: float = 0.0  # 0 = not quantized
    zero_point: int = 0

    @property
    def nbytes(self) -> int:
        # Python ints: a hostile shape must not wrap around int64 into a small number
        count = 1
        for d in self.shape:
            count *= max(int(d), 0)
        return count * np.dtype(self.dtype).itemsize

    def dequantize(self, q: np.ndarray) -> np.ndarray:
        q = np.asarray(q)
        if self.scale == 0.0 or q.dtype.kind == "f":
            return q.astype(np.float32)
        return ((q.astype(np.float64) - self.zero_point) * self.scale).astype(np.float32)

    def quantize(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        dtype = np.dtype(self.dtype)
        if dtype.kind == "f":
            return x.astype(dtype)
        if self.scale == 0.0:  # an integer input without quantization: values are used as they are
            scaled = x
        else:
            scaled = x / self.scale
        q = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5) + (self.zero_point if self.scale else 0)
        info = np.iinfo(dtype)
        return np.clip(q, info.min, info.max).astype(dtype)


def model_specs(model) -> tuple[list[TensorSpec], list[TensorSpec]]:
    """Input and output specs of a tinyflow.tflite.TfliteModel."""

    def spec(i: int) -> TensorSpec:
        t = model.tensors[i]
        scale = float(t.scale[0]) if len(t.scale) else 0.0
        zp = int(t.zero_point[0]) if len(t.zero_point) else 0
        return TensorSpec(t.name, tuple(int(d) for d in t.shape), np.dtype(t.dtype), scale, zp)

    return [spec(i) for i in model.inputs], [spec(i) for i in model.outputs]


@dataclass
class EvalData:
    """What gets streamed: per sample, one array per model input (already in the input dtype)."""

    name: str
    inputs: Sequence[list[np.ndarray]]  # a Samples: made on demand
    task: str = "none"  # classification, regression, anomaly, or none (random:N)
    labels: np.ndarray | None = None
    class_names: list[str] = field(default_factory=list)
    features: np.ndarray | None = None  # the float samples (anomaly scores compare against them)
    identity: str = ""  # SHA-256 naming every input byte (see digest())

    def __len__(self) -> int:
        return len(self.inputs)

    def digest(self) -> str:
        """SHA-256 that names every input byte in order: what a resumed run must stream again.

        It hashes what determines the inputs (the float samples and the input's quantization, or
        the generator, seed and count of random:N) instead of the inputs themselves, so it costs
        no sample generation.
        """
        return self.identity


SPLITS = ("test", "val", "train", "all")


def load_eval_data(
    spec: str,
    inputs: list[TensorSpec],
    *,
    seed: int = 0,
    limit: int | None = None,
    split: str | None = None,
    outputs: list[TensorSpec] | None = None,
) -> EvalData:
    """Build the evaluation inputs for a model (lazily: no sample is made here).

    Args:
        spec: `random:N`, a built-in dataset name, or a `.npz`/`.csv` path.
        inputs: the model's input specs (model_specs()[0]).
        seed: seed of random:N and of the generated built-in sets.
        limit: keep at most this many samples (the first ones).
        split: test, val, train or all. Default: the held-out test split for the built-in
            datasets (the split `train`, `prune` and `quantize` make with the same seed), all
            samples of a file.
        outputs: the model's output specs: class labels must lie within the first output's
            classes, and the results kept per sample bound the sample count.
    Raises:
        UsageError: a malformed spec, a negative seed, too many samples. DataError: samples that do
            not fit the model's input, labels outside its classes.
    """
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be at least 1, got {limit}", "Pass a positive number of samples.")
    parsed = parse_spec(spec)
    check_seed(seed)
    check_sample_size(inputs)
    if parsed.kind == "random":
        data = random_data(parsed, inputs, seed, limit)
    else:
        data = _dataset(parsed, inputs, seed, limit, split)
    check_count(len(data), outputs or [], parsed)
    if outputs and data.task == "classification" and data.labels is not None:
        check_classes(data, outputs[0])
    return data


def check_sample_size(inputs: list[TensorSpec]) -> None:
    for s in inputs:
        if any(d < 0 for d in s.shape):
            raise DataError(
                f"The model's input {s.name!r} has shape {s.shape}: a negative size",
                "Check the model file: it is damaged or not a valid .tflite.",
            )
        if s.nbytes > MAX_SAMPLE_BYTES:
            raise DataError(
                f"The model's input {s.name!r} takes {s.nbytes:,} B a sample ({s.shape}), more than "
                f"the {MAX_SAMPLE_BYTES:,} B tinyflow streams",
                "Check the model: no board holds such an input.",
            )


def check_count(n: int, outputs: list[TensorSpec], spec: DatasetSpec) -> None:
    per_sample = 2 * sum(s.nbytes for s in outputs) + _RESULT_OVERHEAD
    most = min(MAX_SAMPLES, RESULTS_BUDGET // per_sample)
    if n > most:
        what = "random:N allows" if spec.kind == "random" else f"{spec} has {n:,} samples; tinyflow evaluates"
        raise UsageError(
            f"{what} at most {most:,} samples of this model (every sample's outputs are kept for the report)",
            "Use --count N to evaluate fewer samples, or split the run.",
        )


def check_classes(data: EvalData, out: TensorSpec) -> None:
    values = out.nbytes // np.dtype(out.dtype).itemsize
    classes = 2 if values == 1 else values  # one sigmoid unit: classes 0 and 1
    check_labels(
        data.name,
        np.asarray(data.labels),
        classes,
        why=f"the model's first output {out.name!r} has {values} value{'s' if values != 1 else ''}",
    )


def _dataset(spec: DatasetSpec, inputs: list[TensorSpec], seed: int, limit: int | None, split: str | None) -> EvalData:
    if split is None:
        split = "test" if spec.kind in ("builtin", "store") else "all"  # a store's manifest names its test split
    if split not in SPLITS:
        raise UsageError(f"Unknown split {split!r}", f"Use one of: {', '.join(SPLITS)}.")
    ds = load_dataset(spec, seed=seed)
    if split != "all":
        ds = split_dataset(ds, seed=seed)[("train", "val", "test").index(split)]
    if len(inputs) != 1:
        raise DataError(
            f"The model has {len(inputs)} inputs but dataset {ds.name} gives one array per sample",
            "Use --dataset random:N for multi-input models.",
        )
    x, y = ds.x, ds.y
    if limit is not None:
        x, y = x[:limit], y[:limit]
    if len(x) == 0:
        raise DataError(
            f"Dataset {ds.name} has no samples (its {split} split of {spec} is empty)",
            "Use --split all for a small dataset, or give more samples.",
        )
    want = inputs[0]
    per_sample = int(np.prod(want.shape[1:] if want.shape and want.shape[0] == 1 else want.shape, dtype=np.int64))
    got = int(np.prod(x.shape[1:], dtype=np.int64))
    if got != per_sample:
        raise DataError(
            f"Dataset {ds.name} has samples of shape {tuple(x.shape[1:])} ({got} values) but the "
            f"model input {want.name!r} takes {want.shape} ({per_sample} values)",
            "Evaluate the model on the dataset it was trained for, or use --dataset random:N.",
        )
    x = np.ascontiguousarray(x, dtype=np.float32)
    h = hashlib.sha256(json.dumps(["dataset", spec_dict(want)]).encode())
    h.update(x.data)
    return EvalData(
        # a store's version (its manifest hash) rides in the name, so every report records it
        name=ds.name if ds.version is None else f"{ds.name}@{ds.version[:16]}",
        inputs=Samples(len(x), lambda i: [want.quantize(x[i].reshape(want.shape))]),
        task=ds.task,
        labels=np.asarray(y),
        class_names=list(ds.class_names),
        features=x.reshape(len(x), -1),
        identity=h.hexdigest(),
    )


def random_data(spec: DatasetSpec, inputs: list[TensorSpec], seed: int, limit: int | None) -> EvalData:
    n = spec.count if limit is None else min(spec.count, limit)
    # v2: sample i seeded by (seed, i); the generator's name is part of the journal's identity
    key = json.dumps(["random-v2", seed, n, [spec_dict(s) for s in inputs]])
    return EvalData(
        name=spec.text,
        inputs=random_samples(n, inputs, seed),
        identity=hashlib.sha256(key.encode()).hexdigest(),
    )


def spec_dict(s: TensorSpec) -> dict:
    return {"shape": list(s.shape), "dtype": np.dtype(s.dtype).str, "scale": s.scale, "zero_point": s.zero_point}


# The loaders of raw signals for a model behind a front end live in eval_raw.py; these names
# were importable from here and still are.
_MOVED = ("AUDIO_FULL_SCALE", "raw_input_spec", "host_model_input", "load_raw_eval_data", "remap_labels")


def __getattr__(name: str):
    if name in _MOVED:
        from tinyflow.workflows import eval_raw

        return getattr(eval_raw, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
