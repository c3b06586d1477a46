"""`tinyflow demo`: data -> model -> structured + unstructured pruning -> int8 -> inspect -> C array -> eval.

`--task` picks the data and model (tinyflow.workflows.demo_tasks): digits -> tiny_cnn (the
default); kws: synthesized speech -> a front end (mfcc or micro_speech) -> kws_cnn; har:
basic-motions IMU -> the imu front end -> mlp. With a front end every model file gets its
`.frontend.json` sidecar and the evaluation sends raw signals: the device computes the features.

Each stage is a function `stage_<name>(state)` that reads and extends one `DemoState` (the data
stage, which differs by task, is demo_tasks'); `STAGES` lists them in order so more stages can be appended (e.g. an evaluation on a simulated board)
without touching the others. `run_demo(DemoConfig(...))` runs them, emits one StageStarted /
StageFinished event pair per stage (tinyflow.events; the CLI prints a line per stage), writes the
artifacts plus `report.json` to the output directory and returns a `DemoReport`.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tinyflow import events
from tinyflow.outputs import make_dir
from tinyflow.report import to_json
from tinyflow.workflows.config import DemoConfig, EvalConfig
from tinyflow.workflows.demo_tasks import TASKS, stage_data

__all__ = ["STAGES", "DemoConfig", "DemoReport", "DemoState", "run_demo"]


@dataclass
class DemoState:
    """What the stages pass along: data splits, models, .tflite bytes, reports, files, timings."""

    config: DemoConfig
    splits: tuple = ()
    model: Any = None  # trained float Keras model
    pruned: Any = None  # structured + unstructured pruned, fine-tuned
    int8_unpruned: bytes = b""
    int8: bytes = b""
    frontend: Any = None  # the front end configuration (kws, har), input scaling fitted on train
    store: Path | None = None  # the raw recordings (kws, har): what the evaluation sends
    report: dict = field(default_factory=dict)
    artifacts: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)

    def save(self, key: str, filename: str, data: bytes | str) -> Path:
        path = self.config.out / filename
        path.write_bytes(data) if isinstance(data, bytes) else path.write_text(data)
        self.artifacts[key] = str(path)
        return path

    def model_file(self, path: str | Path) -> None:
        """A model was written at `path`: give it its front end sidecar (or drop a stale one)."""
        from tinyflow.frontends import write_sidecar
        from tinyflow.model.pipeline import drop_sidecar

        write_sidecar(path, self.frontend) if self.frontend is not None else drop_sidecar(path)


def stage_train(state: DemoState) -> str:
    from tinyflow.model import train, zoo

    cfg, (tr, va, te), task = state.config, state.splits, TASKS[state.config.task]
    state.model = zoo.build_model(task.model, tr.input_shape, tr.num_classes, width=task.width, seed=cfg.seed)
    rep = train.train(
        state.model,
        tr,
        va,
        epochs=cfg.epochs,
        batch_size=task.batch_size,
        lr=task.lr,
        seed=cfg.seed,
        patience=task.patience,
        out=cfg.out / "model.keras",
        verbose=True,
    )
    state.model_file(rep.path)
    state.artifacts["model"] = rep.path
    acc = train.evaluate(state.model, te)["accuracy"]
    state.report["train"] = {**rep.to_dict(), "params": state.model.count_params(), "test_accuracy": acc}
    return (
        f"{task.model}: {state.model.count_params():,} params, {rep.epochs_run} epochs, float test accuracy {acc:.3f}"
    )


def stage_prune(state: DemoState) -> str:
    from tinyflow.data import representative
    from tinyflow.model import prune, quantize, train

    cfg, (tr, va, te) = state.config, state.splits
    calib = representative(tr, cfg.calibration, cfg.seed)
    small = prune.prune_structured(state.model, cfg.ratio, tr, va, epochs=cfg.finetune_epochs, seed=cfg.seed)
    structured = prune.measure(
        prune.compare(state.model, small, f"structured {cfg.ratio:.0%}"), state.model, small, te, calib, arena=True
    )
    state.int8_unpruned = quantize.to_tflite(state.model, calib)
    state.pruned = prune.prune_unstructured(
        _copy(small), tr, va, sparsity=cfg.sparsity, epochs=cfg.finetune_epochs // 2, seed=cfg.seed
    )
    unstructured = prune.measure(
        prune.compare(small, state.pruned, f"unstructured {cfg.sparsity:.0%}"), small, state.pruned, te, calib
    )
    train.save_keras(state.pruned, cfg.out / "pruned.keras")
    state.model_file(cfg.out / "pruned.keras")
    state.artifacts["pruned_model"] = str(cfg.out / "pruned.keras")
    state.model_file(state.save("int8_unpruned", "model_int8_unpruned.tflite", state.int8_unpruned))
    state.report["prune"] = {"structured": structured.to_dict(), "unstructured": unstructured.to_dict()}
    return (
        f"structured {cfg.ratio:.0%}: params {structured.params_before:,} -> {structured.params_after:,}, "
        f"int8 {structured.int8_bytes_before:,} -> {structured.int8_bytes_after:,} B, "
        f"TFLM arena {structured.arena_before:,} -> {structured.arena_after:,} B; "
        f"unstructured {cfg.sparsity:.0%}: int8 {unstructured.int8_bytes_after:,} B (unchanged), "
        f"accuracy {unstructured.metrics_after['accuracy']:.3f}"
    )


def _copy(model):
    # Keras (TensorFlow) is imported only under tinyflow/model/.
    from tinyflow.model.pipeline import _copy as copy_model

    return copy_model(model)


def stage_quantize(state: DemoState) -> str:
    from tinyflow.data import representative
    from tinyflow.model import quantize

    cfg, (tr, _, te) = state.config, state.splits
    state.int8, rep = quantize.quantize(state.pruned, representative(tr, cfg.calibration, cfg.seed), te)
    state.model_file(state.save("int8", "model_int8.tflite", state.int8))
    state.report["quantize"] = rep.to_dict()
    worst = rep.worst_layer
    return (
        f"int8 {len(state.int8):,} B: accuracy float {rep.float_metrics['accuracy']:.3f}, "
        f"LiteRT {rep.litert_metrics['accuracy']:.3f}, TFLM {rep.tflm_metrics['accuracy']:.3f}"
        + (f"; worst layer #{worst.index} {worst.op} ({worst.sqnr_db:.1f} dB)" if worst else "")
    )


def stage_inspect(state: DemoState) -> str:
    info = inspect_for_board(state.int8, state.config.board)
    full = info.pop("report")
    state.save("inspect", "inspect.json", to_json(full.to_dict()))
    state.report["inspect"] = info
    return (
        f"{info['macs']:,} MACs; {state.config.board}: {info['verdict']} (flash {info['flash_needed']:,} of {info['flash_usable']:,} B, "
        f"RAM {info['ram_needed']:,} of {info['ram_usable']:,} B; arena {info['arena_bytes']:,} B)"
    )


def stage_export(state: DemoState) -> str:
    from tinyflow.export import c_array

    files = c_array.export_c_array(state.int8, state.config.out, name=state.config.name)
    paths = [str(files.header), str(files.source)]
    state.artifacts["c_array"] = paths
    state.report["export"] = {"files": paths, "symbol": files.symbol}
    return "C array: " + ", ".join(Path(p).name for p in paths)


def stage_evaluate(state: DemoState) -> str:
    """Stream the test split to the int8 model on a simulated board and compare with the TFLM reference.

    With a front end (kws, har) the raw test recordings are streamed and the device computes the
    features; the report then also compares the device's features with the host's."""
    import shutil

    import numpy as np

    from tinyflow.workflows.evaluate import evaluate

    cfg, te = state.config, state.splits[2]
    if state.store is None:
        test = cfg.out / "test_split.npz"
        np.savez(test, x=te.x, y=te.y)
        state.artifacts["test_split"] = str(test)
    else:  # the store's raw test recordings: the model's sidecar makes the device compute the features
        test = state.store
    target, note = cfg.target, ""
    if target.startswith("sim://host") and shutil.which("cc") is None:
        target, note = "sim://tflm", " (no C compiler found: fell back from sim://host to sim://tflm)"
        events.emit(
            events.Message(
                "no C compiler (cc) on PATH, so the demo evaluates on sim://tflm instead of "
                "sim://host; install gcc to run the compiled firmware."
            )
        )
    sep = "&" if "?" in target else "?"
    if "board=" not in target:
        target = f"{target}{sep}board={cfg.board}"
    rep = evaluate(
        EvalConfig(
            cfg.out / "model_int8.tflite", dataset=str(test), target=target, report_dir=cfg.out / "eval", seed=cfg.seed
        )
    )
    d = rep.to_dict()
    state.artifacts["eval_report"] = [str(cfg.out / "eval" / "report.json"), str(cfg.out / "eval" / "report.html")]
    state.report["evaluate"] = d
    acc = d.get("metrics", {}).get("accuracy")
    agree = d.get("agreement", {}).get("exact_match_rate")
    link = d.get("link", {})
    features = d.get("feature_agreement", {}).get("exact_match_rate")
    return (
        f"{target}: {d.get('samples', len(te))} samples, accuracy {acc:.3f}, agreement with TFLM {agree:.3f}"
        + (f", features equal to the host's {features:.3f}" if features is not None else "")
        + f", lost {link.get('lost', 0)}{note}"
    )


def inspect_for_board(model_bytes: bytes, board: str) -> dict:
    """A compact view of `tinyflow inspect --board`: ops, MACs, measured TFLM arena, fit verdict and numbers."""
    from tinyflow.inspection import inspect_model

    rep = inspect_model(model_bytes, board=board)
    fit = rep.fit
    return {
        "ops": dict(rep.analysis.op_counts),
        "macs": rep.analysis.macs,
        "params": rep.analysis.params,
        "model_bytes": len(model_bytes),
        "arena_bytes": rep.arena.arena_bytes,
        "verdict": fit.verdict,
        "flash_needed": fit.flash_needed,
        "flash_usable": fit.flash_usable,
        "ram_needed": fit.ram_needed,
        "ram_usable": fit.ram_usable,
        "fit": fit.to_dict(),
        "report": rep,
    }


STAGES: list[tuple[str, Callable[[DemoState], str]]] = [
    ("data", stage_data),
    ("train", stage_train),
    ("prune", stage_prune),
    ("quantize", stage_quantize),
    ("inspect", stage_inspect),
    ("export", stage_export),
    ("evaluate", stage_evaluate),
]


def run_demo(config: DemoConfig | None = None, stages=None) -> DemoReport:
    """Run the stages in order, emitting each one's start and its finished line; write DIR/report.json."""
    config = config or DemoConfig()
    state = DemoState(dataclasses.replace(config, out=make_dir(config.out)))
    for name, fn in stages or STAGES:
        events.emit(events.StageStarted(name))
        start = time.monotonic()
        line = fn(state)
        state.seconds[name] = round(time.monotonic() - start, 2)
        events.emit(events.StageFinished(name, state.seconds[name], line))
    write_report(state)
    return DemoReport.of(state)


@dataclass
class DemoReport:
    """A finished demo: each stage's report, the artifact paths and the seconds per stage."""

    config: DemoConfig
    stages: dict = field(default_factory=dict)
    artifacts: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)

    @classmethod
    def of(cls, state: DemoState) -> DemoReport:
        return cls(state.config, dict(state.report), dict(state.artifacts), dict(state.seconds))

    def to_dict(self) -> dict:
        """The content of DIR/report.json."""
        config = {k: str(v) if isinstance(v, Path) else v for k, v in self.config.__dict__.items()}
        return {"config": config, **self.stages, "artifacts": self.artifacts, "seconds": self.seconds}

    def __str__(self) -> str:
        return _summary(self.config, self.stages)


def write_report(state: DemoState) -> Path:
    """DIR/report.json: every stage's report, artifact paths and timings."""
    path = state.config.out / "report.json"
    path.write_text(to_json(DemoReport.of(state).to_dict()))
    state.artifacts["report"] = str(path)
    return path


def _summary(config: DemoConfig, r: dict) -> str:
    """A short text summary of a finished demo."""
    q, s = r.get("quantize", {}), r.get("prune", {}).get("structured", {})
    task = TASKS[config.task]
    via = f" -> {config.frontend}" if config.frontend else ""
    lines = [f"tinyflow demo: {task.dataset}{via} -> {task.model} -> pruned -> int8 -> {config.board}"]
    if q:
        lines.append(
            f"  accuracy   float {q['float_metrics']['accuracy']:.3f}  int8 (TFLM) {q['tflm_metrics']['accuracy']:.3f}"
        )
    if s:
        lines.append(f"  int8 bytes {s['int8_bytes_before']:,} -> {s['int8_bytes_after']:,} (structured pruning)")
        lines.append(f"  TFLM arena {s['arena_before']:,} -> {s['arena_after']:,} bytes")
    if "inspect" in r:
        lines.append(f"  {config.board}: {r['inspect']['verdict']}")
    if "evaluate" in r:
        e = r["evaluate"]
        lines.append(
            f"  on {e['target']}: accuracy {e['metrics'].get('accuracy', float('nan')):.3f}, "
            f"agreement with TFLM {e['agreement'].get('exact_match_rate', 0):.3f}, "
            f"samples lost {e['link'].get('lost', 0)}"
        )
        if e.get("feature_agreement"):
            lines.append(
                f"  features   computed on the device from raw signals, equal to the host's "
                f"{e['feature_agreement'].get('exact_match_rate', 0):.3f}"
            )
    lines.append(f"  artifacts in {config.out}/ (report.json)")
    return "\n".join(lines)
