"""Inputs whose TFLite Micro outputs are informative, for agreement checks (bench/, tests).

    sel = informative_inputs(model_bytes, count=5)   # InputSelection, deterministic (seeded)
    sel.samples          # one list of input arrays per chosen sample
    sel.distinct_outputs # how many different output vectors the chosen set gives

Uniform random int8 inputs often drive a classifier to one saturated answer (VWW gives 5
distinct outputs over 50 of them, keyword_scrambled a constant one), so "the outputs are
identical" proves little. This draws a seeded pool from several families (uniform, zero-point
centred normals at several spreads, a random sub-range, smooth low-frequency noise over the
spatial axes, as images and spectrograms are), runs the pool through TFLM once and keeps
candidates whose outputs are neither all at the type's limits nor constant, preferring new
top classes, then fewer saturated values; identical outputs are kept once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FAMILIES = ("uniform", "normal8", "normal24", "normal64", "subrange", "smooth4", "smooth12")
DEFAULT_POOL = 56  # 8 of each family: a few seconds of TFLM on the largest corpus model
MAX_POOL = 1024  # candidates are held in memory with their outputs


@dataclass
class InputSelection:
    """The chosen samples, their TFLM outputs, and how informative the set is."""

    samples: list[list[np.ndarray]]  # one array per model input, per sample
    outputs: list[list[np.ndarray]]  # TFLM's outputs for each sample
    families: list[str]  # the family each sample was drawn from
    informative: int  # chosen samples whose outputs are neither saturated nor constant
    distinct_outputs: int  # distinct output vectors among the chosen samples
    pool: int  # candidates tried
    pool_distinct_outputs: int  # distinct output vectors over the whole pool
    saturated_fraction: list[float] = field(default_factory=list)  # per chosen sample

    def to_dict(self) -> dict:
        return {
            "count": len(self.samples),
            "families": self.families,
            "informative": self.informative,
            "distinct_outputs": self.distinct_outputs,
            "pool": self.pool,
            "pool_distinct_outputs": self.pool_distinct_outputs,
            "saturated_fraction": self.saturated_fraction,
        }


def _spatial_axes(shape: tuple[int, ...]) -> list[int]:
    """Axes smooth noise varies slowly along: all but batch and a trailing channel axis."""
    axes = list(range(1 if len(shape) > 1 else 0, len(shape)))
    if len(axes) > 1:
        axes = axes[:-1]
    return [a for a in axes if shape[a] > 1]


def _smooth(rng, shape: tuple[int, ...], cells: int) -> np.ndarray:
    """Noise in [-1, 1] drawn on a coarse grid (`cells` per spatial axis) and repeated up to
    `shape`: blobs and edges at a few scales, as in images and spectrograms."""
    axes = _spatial_axes(shape)
    coarse_shape = tuple(min(cells, n) if a in axes else n for a, n in enumerate(shape))
    noise = rng.uniform(-1, 1, size=coarse_shape)
    for a in axes:
        idx = (np.arange(shape[a]) * coarse_shape[a]) // shape[a]
        noise = np.take(noise, idx, axis=a)
    return noise


def _candidate(rng, family: str, shape: tuple[int, ...], dtype: np.dtype, zero_point: int) -> np.ndarray:
    """One input array of `family`, in the tensor's dtype (float inputs: a real-valued analogue)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        spread = {"normal8": 0.25, "normal24": 1.0, "normal64": 3.0}.get(family, 1.0)
        return (rng.standard_normal(shape) * spread).astype(dtype)
    info = np.iinfo(dtype)
    lo, hi = int(info.min), int(info.max)
    if family == "uniform":
        v = rng.integers(lo, hi, size=shape, endpoint=True)
    elif family.startswith("normal"):  # the spread in 1/256ths of the range: int8 steps, scaled for int16
        spread = int(family[len("normal") :]) * (hi - lo + 1) / 256
        v = np.rint(zero_point + rng.standard_normal(shape) * spread)
    elif family == "subrange":
        a, b = sorted(rng.integers(lo, hi, size=2, endpoint=True))
        v = rng.integers(a, max(a, b), size=shape, endpoint=True)
    else:  # smoothN: coarse noise over the spatial axes, random contrast around a random level
        level = rng.uniform(lo, hi)
        contrast = rng.uniform(0.2, 1.0) * (hi - lo) / 2
        v = np.rint(level + contrast * _smooth(rng, shape, int(family[len("smooth") :])))
    return np.clip(v, lo, hi).astype(dtype)


def candidate_pool(model, size: int = DEFAULT_POOL, seed: int = 0) -> tuple[list[list[np.ndarray]], list[str]]:
    """`size` candidate samples for `model` (a TfliteModel), families in turn; deterministic."""
    rng = np.random.default_rng(seed)
    samples, families = [], []
    for k in range(size):
        family = FAMILIES[k % len(FAMILIES)]
        sample = []
        for i in model.inputs:
            t = model.tensors[i]
            zp = int(t.zero_point[0]) if len(t.zero_point) else 0
            sample.append(_candidate(rng, family, tuple(int(n) for n in t.shape), t.dtype, zp))
        samples.append(sample)
        families.append(family)
    return samples, families


def output_limits(model, pool_outputs: list[list[np.ndarray]]) -> list[set[int]]:
    """The values that mean "saturated" for each model output: its integer type's limits and, for an
    output that reads as probabilities over the whole pool (softmax, logistic: real values in [0, 1]),
    the quantized 0 and 1 within one step (a one-hot answer), whatever its integer type."""
    limits = []
    for k, i in enumerate(model.outputs):
        t = model.tensors[i]
        values = np.concatenate([np.asarray(o[k]).ravel() for o in pool_outputs]).astype(np.float64)
        lim: set[int] = set()
        if t.dtype.kind in "iu":
            lim |= {int(np.iinfo(t.dtype).min), int(np.iinfo(t.dtype).max)}
        if len(t.scale) and float(t.scale[0]) > 0 and values.size:
            scale, zp = float(t.scale[0]), int(t.zero_point[0]) if len(t.zero_point) else 0
            real = (values - zp) * scale
            if real.min() >= 0 and real.max() <= 1 + scale:
                one = zp + int(round(1 / scale))  # 1.0, or the step below it when softmax clamps (1/32768)
                lim |= {zp, one - 1, one}
        limits.append(lim)
    return limits


def saturation(outputs: list[np.ndarray], limits: list[set[int]]) -> tuple[float, int]:
    """(fraction of output values at a saturation limit, distinct values) of one sample."""
    sat = total = 0
    values: set = set()
    for o, lim in zip(outputs, limits):
        flat = np.asarray(o).ravel()
        total += flat.size
        values.update(np.unique(flat).tolist())
        sat += int(np.count_nonzero(np.isin(flat, sorted(lim)))) if lim else 0
    return (sat / total if total else 1.0), len(values)


def _informative(outputs: list[np.ndarray], limits: list[set[int]]) -> bool:
    sat, distinct = saturation(outputs, limits)
    size = sum(np.asarray(o).size for o in outputs)
    return sat < 1.0 and (distinct > 1 or size == 1)


def _key(outputs: list[np.ndarray]) -> bytes:
    return b"".join(np.ascontiguousarray(o).tobytes() for o in outputs)


def informative_inputs(model, count: int = 5, seed: int = 0, pool: int = DEFAULT_POOL) -> InputSelection:
    """`count` samples of `model` (bytes, path or TfliteModel) with informative, distinct TFLM outputs.

    Raises:
        UsageError: count or pool below 1, count above pool, or pool above MAX_POOL.
        ModelError: TFLM cannot run the model.
    """
    from tinyflow.errors import UsageError
    from tinyflow.runtimes import tflm
    from tinyflow.tflite import TfliteModel, read_model

    if count < 1 or pool < count or pool > MAX_POOL:
        raise UsageError(f"Asked for {count} inputs from a pool of {pool}", f"Use 1 <= count <= pool <= {MAX_POOL}.")
    m = model if isinstance(model, TfliteModel) else read_model(model)
    samples, families = candidate_pool(m, pool, seed)
    outputs = tflm.run(m.data, samples)
    limits = output_limits(m, outputs)
    chosen = _choose(outputs, limits, count)
    return InputSelection(
        samples=[samples[k] for k in chosen],
        outputs=[outputs[k] for k in chosen],
        families=[families[k] for k in chosen],
        informative=sum(_informative(outputs[k], limits) for k in chosen),
        distinct_outputs=len({_key(outputs[k]) for k in chosen}),
        pool=pool,
        pool_distinct_outputs=len({_key(o) for o in outputs}),
        saturated_fraction=[round(saturation(outputs[k], limits)[0], 4) for k in chosen],
    )


def _choose(outputs: list[list[np.ndarray]], limits: list[set[int]], count: int) -> list[int]:
    """Indices of `count` candidates: informative outputs with a new top class first, then any
    informative, then the least saturated; an output already chosen is not chosen again unless the
    whole pool has fewer distinct outputs than `count`."""
    scores = [saturation(o, limits) for o in outputs]
    # Fewest saturated values, then most distinct ones; sorted() is stable, so the seeded order breaks ties.
    order = sorted(range(len(outputs)), key=lambda k: (scores[k][0], -scores[k][1]))
    useful = [_informative(o, limits) for o in outputs]
    chosen: list[int] = []
    keys: set[bytes] = set()
    tops: set[int] = set()
    passes = (lambda k: useful[k] and _top(outputs[k]) not in tops, lambda k: useful[k], lambda k: True)
    for accept in passes:
        for k in order:
            if len(chosen) < count and k not in chosen and _key(outputs[k]) not in keys and accept(k):
                chosen.append(k)
                keys.add(_key(outputs[k]))
                tops.add(_top(outputs[k]))
    chosen += [k for k in order if k not in chosen][: count - len(chosen)]  # repeats fill a degenerate pool
    return chosen


def _top(outputs: list[np.ndarray]) -> int:
    return int(np.argmax(np.asarray(outputs[0]).ravel()))
