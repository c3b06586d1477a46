"""Evaluation inputs: a dataset spec turned into the exact tensors a model's input expects.

Specs: the built-in datasets and `.npz`/`.csv` files (tinyflow.data), and `random:N` (N seeded
random tensors over the input dtype's whole range, for parity checks of third-party models that
come without data). Float samples are quantized on the host with the model's input scale and
zero point, exactly as TFLite's QUANTIZE op does (round half away from zero, then saturate).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from tinyflow.errors import DataError, UsageError


@dataclass(frozen=True)
class TensorSpec:
    """One model input or output as the host sees it."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    scale: float = 0.0          # 0 = not quantized
    zero_point: int = 0

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize

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
    inputs: list[list[np.ndarray]]
    task: str = "none"                   # classification, regression, anomaly, or none (random:N)
    labels: np.ndarray | None = None
    class_names: list[str] = field(default_factory=list)
    features: np.ndarray | None = None   # the float samples (anomaly scores compare against them)

    def __len__(self) -> int:
        return len(self.inputs)

    def digest(self) -> str:
        """SHA-256 of every input byte in order: what a resumed run must stream again."""
        h = hashlib.sha256()
        for sample in self.inputs:
            for arr in sample:
                h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()


SPLITS = ("test", "val", "train", "all")


def load_eval_data(spec: str, inputs: list[TensorSpec], *, seed: int = 0, limit: int | None = None,
                   split: str | None = None) -> EvalData:
    """Build the evaluation inputs for a model.

    Args:
        spec: `random:N`, a built-in dataset name, or a `.npz`/`.csv` path.
        inputs: the model's input specs (model_specs()[0]).
        seed: seed of random:N and of the generated built-in sets.
        limit: keep at most this many samples (the first ones).
        split: test, val, train or all. Default: the held-out test split for the built-in
            datasets (the split `train`, `prune` and `quantize` make with the same seed), all
            samples of a file.
    Raises:
        UsageError: a malformed spec. DataError: samples that do not fit the model's input.
    """
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be at least 1, got {limit}", "Pass a positive number of samples.")
    if str(spec).startswith("random:"):
        return _random(spec, inputs, seed, limit)
    from tinyflow.data import BUILTIN, load_dataset
    from tinyflow.data import split as split_dataset

    if split is None:
        split = "test" if str(spec) in BUILTIN else "all"
    if split not in SPLITS:
        raise UsageError(f"Unknown split {split!r}", f"Use one of: {', '.join(SPLITS)}.")
    ds = load_dataset(spec, seed=seed)
    if split != "all":
        ds = split_dataset(ds, seed=seed)[("train", "val", "test").index(split)]
    if len(inputs) != 1:
        raise DataError(f"The model has {len(inputs)} inputs but dataset {ds.name} gives one array per sample",
                        "Use --dataset random:N for multi-input models.")
    x, y = ds.x, ds.y
    if limit is not None:
        x, y = x[:limit], y[:limit]
    want = inputs[0]
    per_sample = int(np.prod(want.shape[1:] if want.shape and want.shape[0] == 1 else want.shape, dtype=np.int64))
    got = int(np.prod(x.shape[1:], dtype=np.int64))
    if got != per_sample:
        raise DataError(f"Dataset {ds.name} has samples of shape {tuple(x.shape[1:])} ({got} values) but the "
                        f"model input {want.name!r} takes {want.shape} ({per_sample} values)",
                        "Evaluate the model on the dataset it was trained for, or use --dataset random:N.")
    q = want.quantize(x.reshape((len(x), *want.shape)))  # each sample in the full input shape
    samples = [[q[i]] for i in range(len(q))]
    return EvalData(name=ds.name, inputs=samples, task=ds.task, labels=np.asarray(y),
                    class_names=list(ds.class_names), features=x.reshape(len(x), -1).astype(np.float32))


def _random(spec: str, inputs: list[TensorSpec], seed: int, limit: int | None) -> EvalData:
    try:
        n = int(spec.split(":", 1)[1])
        assert n > 0
    except (ValueError, AssertionError):
        raise UsageError(f"Bad dataset spec {spec!r}: random:N needs a positive sample count",
                         "Write e.g. --dataset random:100.") from None
    if limit is not None:
        n = min(n, limit)
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(n):
        sample = []
        for s in inputs:
            dtype = np.dtype(s.dtype)
            if dtype.kind == "f":
                sample.append(rng.standard_normal(s.shape).astype(dtype))
            else:
                info = np.iinfo(dtype)
                sample.append(rng.integers(info.min, int(info.max) + 1, size=s.shape, dtype=dtype))
        samples.append(sample)
    return EvalData(name=spec, inputs=samples)
