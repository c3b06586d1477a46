"""`tinyflow retrain`: fine-tune the deployed model on its data plus newly labelled field samples,
redo its pruning and quantization, and deploy the candidate only if every gate passes.

    config = RetrainConfig("har.keras", new_data="labelled/", out_dir="retrain/")
    report = retrain(config)          # RetrainReport; report.rejected names the failed gates

The recipe (how the deployed model was made) is read from `<model>.recipe.json` (or `recipe`):

    {"format": "tinyflow-recipe/1", "dataset": "har_store",          # relative to the recipe file
     "train": {"model": "mlp", "frontend": "imu", "epochs": 60, "batch_size": 8, "lr": 0.003,
               "patience": 20, "seed": 0},
     "prune": {"ratio": 0.0, "sparsity": 0.0, "epochs": 5}, "quantize": {"calibration": 200},
     "board": "nano33ble", "runtime": "tflm"}

`tinyflow train` records one next to its model (`record_training`), `prune` and `quantize` carry it
to theirs with their settings (`record_step`); retrain reads the deployed .tflite's, else the
.keras's, and writes the candidate's next to it, so the next round finds it.
Steps: the versioned union of the recipe's store and the new store (out/data, samples cut to the
shortest common length so both stacks have one shape; the front end's windows must not change) ->
fine-tune the deployed .keras on it with the recipe's settings and the deployed front end ->
prune and quantize the same way -> gates on a simulated target (retrain_gates.py) -> firmware.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from tinyflow import events
from tinyflow.errors import DataError, UsageError

RECIPE_FORMAT = "tinyflow-recipe/1"
RECIPE_SUFFIX = ".recipe.json"
MAX_RECIPE_BYTES = 1 << 16
UNLABELLED = "unlabelled"  # what `classify --sample-below` labels its windows (workflows/classify.py)


@dataclass(frozen=True)
class Recipe:
    """How a model was made: its data, training, pruning and quantization settings, its board."""

    dataset: str
    train: dict = field(default_factory=dict)
    prune: dict = field(default_factory=dict)
    quantize: dict = field(default_factory=dict)
    board: str = "nano33ble"
    runtime: str = "tflm"  # what `firmware generate` builds it with: tflm or aot

    def to_dict(self) -> dict:
        return {"format": RECIPE_FORMAT, **self.__dict__}


TRAIN_DEFAULTS = {"epochs": 30, "batch_size": 32, "lr": 1e-3, "patience": 5, "seed": 0}


def recipe_path(model: str | Path) -> Path:
    return Path(str(model) + RECIPE_SUFFIX)


def write_recipe(model: str | Path, recipe: Recipe) -> Path:
    """Write `recipe` next to `model` as <model>.recipe.json (atomically); returns its path."""
    from tinyflow.outputs import atomic_write, writing

    path = recipe_path(model)
    with writing(path):
        atomic_write(path, (json.dumps(recipe.to_dict(), indent=1) + "\n").encode())
    return path


def record_training(out: str | Path, data: str, settings: dict) -> Path:
    """The recipe of a model `train` just wrote to `out` (a dataset folder or file recorded absolute)."""
    dataset = str(Path(data).resolve()) if Path(data).exists() else data
    return write_recipe(out, Recipe(dataset, {k: v for k, v in settings.items() if v is not None}))


def record_step(src: str | Path, dst: str | Path, step: str, settings: dict) -> Path | None:
    """`dst`'s recipe: `src`'s with this step's (prune or quantize) settings. Without one at `src`,
    a recipe left at `dst` by an earlier run is removed (it would describe another model)."""
    if not recipe_path(src).is_file():
        recipe_path(dst).unlink(missing_ok=True)
        return None
    recipe = read_recipe(recipe_path(src))
    return write_recipe(dst, replace(recipe, **{step: {k: v for k, v in settings.items() if v is not None}}))


def read_recipe(path: str | Path) -> Recipe:
    """The recipe in `path` (untrusted: bounded, every field checked); its dataset resolved from there.

    Raises:
        DataError: unreadable, another format, or fields of the wrong kind.
    """
    from tinyflow.inputs import read_regular

    path = Path(path)
    hint = f"Write it with tinyflow.workflows.retrain.write_recipe or by hand ({RECIPE_FORMAT}, docs/operations.md)."
    try:
        raw = json.loads(read_regular(path, "recipe", MAX_RECIPE_BYTES, DataError))
        ok = isinstance(raw, dict) and raw.get("format") == RECIPE_FORMAT and isinstance(raw.get("dataset"), str)
        parts = {k: raw.get(k) or {} for k in ("train", "prune", "quantize")} if ok else {}  # raw may be a list
        ok = ok and all(isinstance(v, dict) for v in parts.values())
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: arrays nested thousands deep
        ok = False
    if not ok:
        raise DataError(f"{path} is not a tinyflow recipe", hint)
    for part, values in parts.items():
        for key, value in values.items():
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            if not (numeric or (isinstance(value, str) and len(value) < 64) or value is None):
                raise DataError(f"{path}: {part}.{key} is {str(value)[:40]!r}, not a number or a name", hint)
    dataset = raw["dataset"]
    if not Path(dataset).is_absolute() and (path.parent / dataset).exists():
        dataset = str(path.parent / dataset)
    board = raw.get("board") if isinstance(raw.get("board"), str) else "nano33ble"
    runtime = raw.get("runtime", "tflm")
    if runtime not in ("tflm", "aot"):
        raise DataError(f"{path}: runtime {str(runtime)[:20]!r} is not tflm or aot", hint)
    return Recipe(dataset, parts["train"], parts["prune"], parts["quantize"], board, runtime)


@dataclass(frozen=True)
class RetrainConfig:
    """What `retrain` does; every field is checked once, here."""

    model: str  # the deployed .keras (its int8 .tflite beside it, same stem)
    new_data: str  # a store of newly labelled samples
    out_dir: str
    recipe: str | None = None  # default <model>.recipe.json
    golden: str | None = None  # dataset spec whose test split is the golden set; default the recipe's
    target: str = "sim://host"
    board: str | None = None  # default the recipe's
    runtime: str | None = None  # tflm or aot; default the recipe's
    max_drop: float = 0.01  # most golden accuracy the candidate may lose
    latency_budget_ms: float | None = None  # default 1.5 x the deployed model's p50 on `target`
    seed: int | None = None  # default the recipe's

    def __post_init__(self):
        if not Path(self.model).is_file() or Path(self.model).suffix != ".keras":
            raise UsageError(f"Model {self.model} is not a .keras file", "Give the deployed model's .keras.")
        if not Path(self.deployed).is_file():
            raise UsageError(
                f"No deployed int8 model {self.deployed} beside {self.model}",
                "Quantize it there with tinyflow quantize.",
            )
        if not (math.isfinite(self.max_drop) and 0 <= self.max_drop < 1):
            raise UsageError(f"--max-drop {self.max_drop} is not a fraction", "Give e.g. --max-drop 0.01.")
        budget = self.latency_budget_ms
        if budget is not None and not (math.isfinite(budget) and budget > 0):
            raise UsageError(f"--latency-budget-ms {budget} must be positive", "Give e.g. --latency-budget-ms 5.")
        if self.runtime not in (None, "tflm", "aot"):
            raise UsageError(f"Unknown runtime {self.runtime!r}", "Use --runtime tflm or aot.")
        if self.target.startswith("sim://tflm"):
            raise UsageError("sim://tflm has no firmware to gate", "Use sim://host or sim://qemu-m4.")

    @property
    def deployed(self) -> Path:
        return Path(self.model).with_suffix(".tflite")

    @property
    def recipe_file(self) -> Path:
        """--recipe, else the deployed .tflite's (quantize completed it), else the .keras's."""
        if self.recipe:
            return Path(self.recipe)
        return recipe_path(self.deployed) if recipe_path(self.deployed).is_file() else recipe_path(self.model)


def retrain(config: RetrainConfig):
    """Run the loop; returns a RetrainReport (written to out_dir as retrain.json and retrain.html).

    Raises:
        UsageError/DataError: bad configuration, recipe or data; ModelError: an unusable model.
        The caller decides what a rejected candidate means (the CLI exits 1 naming the gate).
    """
    from tinyflow.data import open_store
    from tinyflow.workflows import retrain_gates as gates
    from tinyflow.workflows.retrain_report import RetrainReport, write_report

    if not config.recipe_file.is_file():
        raise UsageError(f"No recipe {config.recipe_file}", "Give --recipe FILE (docs/operations.md, Retraining).")
    recipe = read_recipe(config.recipe_file)
    out = Path(config.out_dir)
    recipe = replace(recipe, board=config.board or recipe.board, runtime=config.runtime or recipe.runtime)
    board = recipe.board
    seed = int(config.seed if config.seed is not None else recipe.train.get("seed", 0))
    base, new = open_store(recipe.dataset), open_store(config.new_data)
    with events.stage("data", f"union of {len(base.entries)} + {len(new.entries)} samples"):
        union = build_union(base, new, out / "data")
    report = RetrainReport(
        model=Path(config.model).name,
        target=config.target,
        board=board,
        datasets={"base": _ref(base), "new": _ref(new), "union": _ref(union)},
        recipe=recipe.to_dict(),
    )
    candidate = out / "model.keras"
    with events.stage("train", f"fine-tune {Path(config.model).name} on {len(union.entries)} samples"):
        report.train = fine_tune(config.model, str(union.root), candidate, recipe, seed)
    cand_int8 = shrink(candidate, str(union.root), recipe, seed)
    report.candidate, report.seed = str(cand_int8), seed
    golden = config.golden or recipe.dataset
    with events.stage("gates", f"golden set {Path(golden).name} on {config.target}"):
        report.gates, report.before, report.after = gates.run_gates(
            config.deployed, cand_int8, golden=golden, new=config.new_data, target=config.target, board=board,
            max_drop=config.max_drop, budget_ms=config.latency_budget_ms, runtime=recipe.runtime,
            class_names=tuple(sorted({e.label for e in base.entries})),
        )  # fmt: skip
    if not report.rejected:
        made = Recipe(str(union.root.resolve()), recipe.train, recipe.prune, recipe.quantize, board, recipe.runtime)
        write_recipe(candidate, made)
        write_recipe(cand_int8, made)
        report.firmware = gates.write_firmware(cand_int8, board, recipe.runtime, out / "firmware")
    report.paths = write_report(out, report)
    return report


def build_union(base, new, root: Path):
    """The store at `root` holding every sample of `base` and `new` with their labels and splits,
    cut to the shortest length among them (a store stacks samples of one shape).

    Raises:
        DataError: unlabelled samples in `new`, or labels the deployed model does not know.
    """
    from tinyflow.data import create_store

    labels = {e.label for e in base.entries}
    if any(e.label == UNLABELLED for e in new.entries):
        raise DataError(
            f"{new.root} still has samples labelled {UNLABELLED!r}", "Label them first: retrain needs labelled data."
        )
    unknown = sorted({e.label for e in new.entries} - labels)
    if unknown:
        raise DataError(
            f"{new.root} has labels the model was not trained on: {', '.join(unknown)[:200]}",
            "Retrain keeps the classes; train a new model for new classes.",
        )
    samples = [(s, e, s.read(e).data) for s in (base, new) for e in s.entries]
    length = min(len(d) for _, _, d in samples)
    with create_store(root) as union:
        for _, e, data in samples:
            union.add_sample(
                np.asarray(data)[:length], e.label, sensor=e.sensor, sample_rate=e.sample_rate, device=e.device,
                captured_at=e.captured_at, split=e.split, group=e.group,
            )  # fmt: skip
    return union


def fine_tune(model: str, data: str, out: Path, recipe: Recipe, seed: int) -> dict:
    """Continue training the deployed model on `data` (its own front end, unrefitted: the device's
    feature scaling stays) with the recipe's settings; saves `out` with the front end beside it."""
    from tinyflow.frontends import write_sidecar
    from tinyflow.model import train
    from tinyflow.model.pipeline import load_splits, model_frontend

    t = {**TRAIN_DEFAULTS, **recipe.train}
    frontend = model_frontend(model)
    tr, va, _ = load_splits(data, seed, frontend)
    keras_model = train.load_keras(model)
    result = train.train(
        keras_model, tr, va, epochs=int(t["epochs"]), batch_size=int(t["batch_size"]), lr=float(t["lr"]),
        seed=seed, patience=int(t["patience"]), out=out, verbose=False,
    )  # fmt: skip
    if frontend is not None:
        write_sidecar(out, frontend)
    return {"epochs_run": result.epochs_run, "best_epoch": result.best_epoch, "val_metrics": result.metrics}


def shrink(candidate: Path, data: str, recipe: Recipe, seed: int) -> Path:
    """Prune (when the recipe did) and quantize the candidate the way the deployed model was."""
    from tinyflow.model.pipeline import prune_file, quantize_file

    ratio, sparsity = float(recipe.prune.get("ratio") or 0), float(recipe.prune.get("sparsity") or 0)
    if ratio > 0 or sparsity > 0:
        with events.stage("prune", f"ratio {ratio:g}, sparsity {sparsity:g}"):
            pruned = candidate.with_name("model.pruned.keras")
            epochs = int(recipe.prune.get("epochs") or 5)
            prune_file(candidate, data, pruned, ratio, sparsity, epochs, seed, verbose=False)
            candidate = pruned
    out = candidate.with_name("model.tflite")
    with events.stage("quantize", "int8"):
        calibration, qat = int(recipe.quantize.get("calibration") or 200), int(recipe.quantize.get("qat_epochs") or 0)
        quantize_file(candidate, data, out, calibration, seed, qat_epochs=qat)
    return out


def _ref(store) -> dict:
    return {"path": str(store.root), "version": store.version, "samples": len(store.entries)}
