"""The sweep configuration (CONFIG.toml), parsed and checked once: every key known, every value in range.

    [sweep]
    dataset = "digits"           # a built-in, a .npz/.csv file or a store folder (tinyflow.data)
    trials = 12
    seed = 0
    objectives = ["accuracy", "latency", "ram", "flash", "fit"]

    [space]                      # each dimension: the values the search picks from
    model = ["tiny_cnn"]         # zoo architectures (depth: the zoo's models differ in depth)
    width = [0.25, 0.5, 1.0]
    resolution = [8, 6]          # input height/width of image data (nearest-neighbour resampling)
    prune = [0.0, 0.5]           # structured pruning ratio
    quantization = ["ptq"]
    board = ["nano33ble"]

The file is untrusted: an unknown key, a wrong type or a value out of range is one UsageError
that names the key. Pure: no TensorFlow, Optuna or Ray here.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tinyflow.errors import UsageError

MAX_CONFIG_BYTES = 64 * 1024
MAX_TRIALS = 10_000
MAX_CHOICES = 64  # values of one dimension
MAX_SEED = 2**32 - 1
ZOO = ("mlp", "tiny_cnn", "ds_cnn", "mobilenet_v1", "resnet8", "kws_cnn")  # tinyflow.model.zoo classifiers
QUANTIZATION = ("ptq", "qat")
# objective -> direction; `fit` is a constraint (a trial that does not fit its board is never on the front)
OBJECTIVES = {
    "accuracy": "maximize",  # int8 accuracy on the simulated target (test split)
    "latency": "minimize",  # ms per inference estimated by sim://tflm from MACs and the board's clock
    "instructions": "minimize",  # exact instructions per inference on sim://qemu-m4 (needs the ARM toolchain)
    "ram": "minimize",  # bytes: TFLM arena with its margin + runtime (boards.fit_model)
    "flash": "minimize",  # bytes: model + runtime
}
CONSTRAINTS = ("fit",)
TARGETS = ("sim://tflm", "sim://host")
HINT = "Fix CONFIG.toml (docs/optimization.md#search lists every key)."


@dataclass(frozen=True)
class Space:
    """The values each dimension may take (categorical: a small, exactly reproducible grid)."""

    model: tuple[str, ...] = ("tiny_cnn",)
    width: tuple[float, ...] = (1.0,)
    resolution: tuple[int, ...] = (0,)  # 0: the data's own
    prune: tuple[float, ...] = (0.0,)
    quantization: tuple[str, ...] = ("ptq",)
    board: tuple[str, ...] = ("nano33ble",)

    def dimensions(self) -> dict[str, tuple]:
        return {k: tuple(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class SweepConfig:
    """What to search, how each trial is trained and measured, and for what."""

    dataset: str = "digits"
    trials: int = 12
    seed: int = 0
    objectives: tuple[str, ...] = ("accuracy", "latency", "ram", "flash", "fit")
    population: int = 4  # NSGA-II generation size; also the trials run in parallel per round
    epochs: int = 5
    finetune_epochs: int = 2  # after structured pruning
    qat_epochs: int = 2  # quantization-aware fine-tuning of the trials with quantization "qat"
    calibration: int = 100
    eval_samples: int = 0  # 0: the whole test split
    target: str = "sim://tflm"  # where the int8 accuracy is measured
    trial_timeout: float = 3600.0  # seconds one trial may take before the sweep gives up on it
    space: Space = field(default_factory=Space)

    @property
    def metric_objectives(self) -> tuple[str, ...]:
        return tuple(o for o in self.objectives if o in OBJECTIVES)

    @property
    def directions(self) -> list[str]:
        return [OBJECTIVES[o] for o in self.metric_objectives]

    def to_dict(self) -> dict:
        return asdict(self)

    def digest(self) -> str:
        """SHA-256 of what decides the results: a resumed sweep must have the same."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()


_SWEEP_KEYS = {
    "dataset": str,
    "trials": int,
    "seed": int,
    "objectives": list,
    "population": int,
    "epochs": int,
    "finetune_epochs": int,
    "qat_epochs": int,
    "calibration": int,
    "eval_samples": int,
    "target": str,
    "trial_timeout": float,
}
_RANGES = {
    "trials": (1, MAX_TRIALS),
    "seed": (0, MAX_SEED),
    "population": (2, 1000),
    "epochs": (1, 1000),
    "finetune_epochs": (0, 1000),
    "qat_epochs": (1, 1000),
    "calibration": (1, 100_000),
    "eval_samples": (0, 10_000_000),
    "trial_timeout": (1.0, 7 * 86400.0),
}


def load_config(path: str | Path) -> SweepConfig:
    """Read and check CONFIG.toml (regular file, at most 64 KiB)."""
    from tinyflow.inputs import read_regular

    data = read_regular(path, "sweep configuration", MAX_CONFIG_BYTES, UsageError)
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    # RecursionError: tomllib recurses once per nested array, and a 64 KiB file can nest 30 000
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        raise UsageError(f"{Path(path).name} is not valid TOML ({str(exc)[:120]})", HINT) from None
    config = parse_config(doc)
    return _absolute_dataset(config, Path(path).parent)


def parse_config(doc: dict) -> SweepConfig:
    """A SweepConfig from a parsed TOML document; UsageError naming the first bad key."""
    _known(doc, {"sweep", "space"}, "")
    sweep, space = _table(doc, "sweep"), _table(doc, "space")
    _known(sweep, set(_SWEEP_KEYS), "sweep.")
    _known(space, set(Space.__dataclass_fields__), "space.")
    values = {k: _typed(f"sweep.{k}", sweep[k], _SWEEP_KEYS[k]) for k in sweep}
    for key, (low, high) in _RANGES.items():
        if key in values and not low <= values[key] <= high:
            raise UsageError(f"sweep.{key} must be in [{low}, {high}], got {values[key]}", HINT)
    if "objectives" in values:
        values["objectives"] = _objectives(values["objectives"])
    if "target" in values and values["target"] not in TARGETS:
        raise UsageError(f"sweep.target must be one of {', '.join(TARGETS)}, got {values['target']!r}", HINT)
    if "dataset" in values and not values["dataset"].strip():
        raise UsageError("sweep.dataset is empty", HINT)
    return SweepConfig(**values, space=_space(space))


def _table(doc: dict, name: str) -> dict:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise UsageError(f"[{name}] must be a table, got {type(value).__name__}", HINT)
    return value


def _known(table: dict, keys: set[str], prefix: str) -> None:
    unknown = sorted(set(table) - keys)
    if unknown:
        raise UsageError(
            f"Unknown key {prefix}{unknown[0][:60]!s} in the sweep configuration",
            f"Known keys: {', '.join(prefix + k for k in sorted(keys))}.",
        )


def _typed(name: str, value, kind: type):
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise UsageError(f"{name} must be a {kind.__name__}, got {type(value).__name__}", HINT)
    if kind is float and not math.isfinite(value):
        raise UsageError(f"{name} must be a finite number, got {value}", HINT)
    return value


def _objectives(items: list) -> tuple[str, ...]:
    allowed = (*OBJECTIVES, *CONSTRAINTS)
    for item in items:
        if item not in allowed:
            raise UsageError(f"Unknown objective {str(item)[:60]!r} in sweep.objectives", f"Use: {', '.join(allowed)}.")
    if len(set(items)) != len(items):
        raise UsageError("sweep.objectives lists an objective twice", HINT)
    if not any(o in OBJECTIVES for o in items):
        raise UsageError("sweep.objectives names no metric to optimize", f"Add some of: {', '.join(OBJECTIVES)}.")
    return tuple(items)


def _space(table: dict) -> Space:
    checks = {
        "model": (str, lambda v: v in ZOO, f"one of {', '.join(ZOO)}"),
        "width": (float, lambda v: 0 < v <= 16, "in (0, 16]"),
        "resolution": (int, lambda v: 2 <= v <= 1024, "in [2, 1024]"),
        "prune": (float, lambda v: 0 <= v < 1, "in [0, 1)"),
        "quantization": (str, lambda v: v in QUANTIZATION, "ptq or qat"),
        "board": (str, lambda v: 0 < len(v) <= 64 and v.replace("_", "").replace("-", "").isalnum(), "a board id"),
    }
    out = {}
    for key, value in table.items():
        kind, ok, what = checks[key]
        if not isinstance(value, list) or not value or len(value) > MAX_CHOICES:
            raise UsageError(f"space.{key} must be a list of 1 to {MAX_CHOICES} values", HINT)
        items = [_typed(f"space.{key}", v, kind) for v in value]
        bad = next((v for v in items if not ok(v)), None)
        if bad is not None:
            raise UsageError(f"space.{key} value {str(bad)[:60]!r} must be {what}", HINT)
        if len(set(items)) != len(items):
            raise UsageError(f"space.{key} lists a value twice", HINT)
        out[key] = tuple(items)
    return Space(**out)


def _absolute_dataset(config: SweepConfig, base: Path) -> SweepConfig:
    """A dataset file or folder named relative to CONFIG.toml, made absolute (Ray workers run elsewhere)."""
    from dataclasses import replace

    candidate = base / config.dataset
    if not Path(config.dataset).is_absolute() and candidate.exists():
        return replace(config, dataset=str(candidate.resolve()))
    return config
