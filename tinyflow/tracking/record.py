"""What one verb's run is, as MLflow will hold it: pure data built from the verb's options and report.

    record = build_record("quantize", {"model": "m.keras", "data": "digits", "out": "m.tflite"}, report.to_dict())
    record.metrics["int8_drop"], record.output_model, record.dataset.version

No MLflow here (tinyflow/tracking/store.py logs a RunRecord): what is logged for each verb can be
tested, and read, without a tracking server.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from tinyflow.outputs import file_sha256 as _sha256

# The verbs that make or measure a model. Each lists its headline metrics as (name, dotted path in
# the report's to_dict(); "a|b": the first present, for verbs whose report depends on a format):
# the same names for the same quantity across verbs, so `runs compare` lines them up. Every other
# number in the report is logged too, under its own dotted path.
_PACKAGE = (  # export and deploy: what the chosen format's report has
    ("model_bytes", "bytes"),
    ("arena", "arena_bytes|memory.tflm_arena_bytes"),
    ("ram", "memory.static_ram_bytes|memory.activation_bytes|fit.ram.needed"),  # arena + kernel scratch
    ("flash", "memory.flash_bytes|fit.flash.needed"),
)
HEADLINES: dict[str, tuple[tuple[str, str], ...]] = {
    "train": (("float_accuracy", "metrics.accuracy"), ("float_loss", "metrics.loss")),
    "prune": (
        ("float_accuracy", "metrics_after.accuracy"),
        ("float_accuracy_before", "metrics_before.accuracy"),
        ("model_bytes", "int8_bytes_after"),
        ("arena", "arena_after"),
    ),
    "quantize": (
        ("float_accuracy", "float_metrics.accuracy"),
        ("int8_accuracy", "tflm_metrics.accuracy"),
        ("model_bytes", "int8_bytes"),
        ("agreement", "litert_tflm_identical"),
    ),
    "compile": (
        ("ram", "memory.static_ram_bytes|memory.activation_bytes"),
        ("flash", "memory.flash_bytes"),
        ("arena", "memory.tflm_arena_bytes"),
    ),
    "export": _PACKAGE,
    "deploy": _PACKAGE,
    "firmware generate": (("arena", "arena_bytes"), ("ram", "fit.ram.needed"), ("flash", "fit.flash.needed")),
    "eval": (
        ("int8_accuracy", "metrics.accuracy"),
        ("agreement", "agreement.exact_match_rate"),
        ("latency_ms", "latency.p99_us"),
    ),
    "profile": (
        ("latency_ms", "latency_ms"),
        ("instructions", "instructions"),
        ("ram", "ram_bytes"),
        ("flash", "flash_bytes"),
        ("arena", "arena_used"),
    ),
    "inspect": (("arena", "arena.arena_bytes"), ("ram", "fit.ram.needed"), ("flash", "fit.flash.needed")),
    "retrain": (
        ("int8_accuracy", "after.golden.accuracy"),
        ("int8_accuracy_before", "before.golden.accuracy"),
        ("new_accuracy", "after.new.accuracy"),
    ),
}
# Options that change how a result is shown or written, not what it is.
_NOT_PARAMS = {"as_json", "no_progress", "force", "tensors", "resume"}
# Where each verb's dataset option and output live (click parameter names).
_DATASET_OPTIONS = ("data", "dataset")
_OUTPUT_FILE_VERBS = {"train": ".keras", "prune": ".keras", "quantize": ".tflite"}
_OUTPUT_DIRS = {"out_dir": "output", "report_dir": "report"}  # option -> artifact folder
# retrain's MODEL is the deployed .keras; the model it replaces, whose run is its parent, is the
# int8 .tflite beside it (the output of that run).
_INPUT_SUFFIX = {"retrain": ".tflite"}
# What travels with a model file, beside it (tinyflow/frontends sidecar_path, workflows/retrain
# recipe_path, monitor/reference reference_path; tests/workflows/test_retrain_run.py checks they agree): logged with
# the model in its artifact folder, so `retrain --run` gets back what the files route reads.
COMPANION_SUFFIXES = (".frontend.json", ".recipe.json")  # <model>.frontend.json, <model>.recipe.json
MONITOR_SUFFIX = ".monitor.json"  # <stem>.monitor.json, written by quantize for its int8 model
MAX_METRICS = 300  # a report with thousands of numbers (per-op tables are lists, skipped) stays bounded
MAX_DEPTH = 4
MAX_PARAM_CHARS = 500  # MLflow refuses longer parameter values


@dataclass(frozen=True)
class DatasetRef:
    """The data a run used: `version` names the exact data (store manifest SHA-256, file SHA-256,
    or a built-in's name and seed)."""

    name: str
    version: str
    source: str
    kind: str


@dataclass
class RunRecord:
    """One verb's run: what store.log_record sends to MLflow."""

    verb: str
    name: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    report: dict = field(default_factory=dict)
    dataset: DatasetRef | None = None
    input_model: Path | None = None  # its SHA-256 finds the parent run (lineage)
    output_model: Path | None = None  # logged as an artifact; its SHA-256 tags this run
    # (folder written by the verb, artifact folder): the files at its top level are logged
    artifact_dirs: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def register(self) -> bool:
        """An int8 model: registered as a model version carrying its board-fit verdicts."""
        return self.output_model is not None and self.output_model.suffix == ".tflite"


def tracked(verb: str) -> bool:
    """Whether `verb` makes or measures a model (only those are logged)."""
    return verb in HEADLINES


def build_record(verb: str, params: dict, report: dict) -> RunRecord:
    """The run of `verb` given its click parameters and its report's to_dict()."""
    model = params.get("model")
    subject = model or params.get("out")  # train has no input model: name the run after its output
    record = RunRecord(verb, f"{verb} {Path(str(subject)).name if subject else ''}".strip(), report=report)
    record.params = {k: _param(v) for k, v in sorted(params.items()) if v is not None and k not in _NOT_PARAMS}
    record.metrics = headline_metrics(verb, report)
    for key, value in flatten_numbers(report).items():
        if len(record.metrics) >= MAX_METRICS:
            break
        record.metrics.setdefault(key, value)
    record.tags["tinyflow.verb"] = verb
    if model:
        record.input_model = Path(str(model))
        if verb in _INPUT_SUFFIX:
            record.input_model = record.input_model.with_suffix(_INPUT_SUFFIX[verb])
        record.tags["tinyflow.input_sha256"] = file_sha256(record.input_model)
    out = params.get("out")
    if verb in _OUTPUT_FILE_VERBS and out and Path(str(out)).is_file():
        record.output_model = Path(str(out))
        record.tags["tinyflow.output_sha256"] = file_sha256(record.output_model)
    record.artifact_dirs = [(Path(str(params[k])), where) for k, where in _OUTPUT_DIRS.items() if params.get(k)]
    spec = next((params[k] for k in _DATASET_OPTIONS if params.get(k)), None)
    if spec:
        record.dataset = dataset_ref(str(spec), int(params.get("seed") or 0))
        record.tags["tinyflow.dataset_version"] = record.dataset.version
    return record


def companions(model: Path) -> list[Path]:
    """The files beside `model` that describe it and exist: front end sidecar, recipe, and for an
    int8 model its monitor profile (a float model's stem may share a stale profile of its .tflite)."""
    paths = [Path(f"{model}{suffix}") for suffix in COMPANION_SUFFIXES]
    if model.suffix == ".tflite":
        paths.append(model.with_name(model.stem + MONITOR_SUFFIX))
    return [p for p in paths if p.is_file() and not p.is_symlink()]


def headline_metrics(verb: str, report: dict) -> dict[str, float]:
    """The verb's headline metrics; int8_drop when both accuracies are known; latency in ms."""
    out = {}
    for name, path in HEADLINES.get(verb, ()):
        value = _lookup(report, path)
        if value is not None:
            out[name] = value / 1e3 if path.endswith("_us") else value
    if verb == "quantize" and "float_accuracy" in out and "int8_accuracy" in out:
        out["int8_drop"] = out["float_accuracy"] - out["int8_accuracy"]
    return out


def flatten_numbers(report: dict, prefix: str = "", depth: int = 0) -> dict[str, float]:
    """Every finite number in nested dicts as {"a.b.c": value}; lists and booleans are skipped."""
    out: dict[str, float] = {}
    for key, value in report.items():
        name = f"{prefix}{_metric_key(str(key))}"
        if isinstance(value, dict) and depth < MAX_DEPTH:
            out.update(flatten_numbers(value, name + ".", depth + 1))
        elif _number(value) is not None:
            out[name] = _number(value)
    return out


def dataset_ref(spec: str, seed: int) -> DatasetRef:
    """The version of the data behind `spec`: a store's manifest hash, a file's hash, or name + seed.

    Built-ins and random:N are generated: the name and the seed that splits or draws them name them.
    """
    from tinyflow.data.spec import parse_spec
    from tinyflow.data.store import open_store

    parsed = parse_spec(spec)
    if parsed.kind == "store":
        return DatasetRef(parsed.name, open_store(parsed.path).version, str(parsed.path.resolve()), "store")
    if parsed.kind == "file":
        return DatasetRef(parsed.name, file_sha256(parsed.path), str(parsed.path.resolve()), "file")
    return DatasetRef(parsed.name, f"{parsed.name}@seed{seed}", parsed.text, parsed.kind)


def file_sha256(path: Path) -> str:
    """SHA-256 of a model or data file, streamed; "" for anything but a regular file (a link, a folder)."""
    return _sha256(Path(path)) or ""


def _lookup(report: dict, paths: str) -> float | None:
    for path in paths.split("|"):
        value = report
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if _number(value) is not None:
            return _number(value)
    return None


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and type(value).__module__ != "numpy":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _metric_key(key: str) -> str:
    # MLflow keys allow letters, digits, _ - . / and spaces; report keys are ours but model-derived
    # dict keys (a metric's name) might not be.
    return "".join(c if c.isalnum() or c in "_-./ " else "_" for c in key)[:250]


def _param(value) -> str:
    return str(value)[:MAX_PARAM_CHARS]
