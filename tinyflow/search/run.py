"""`tinyflow sweep`: a multi-objective search (Optuna's NSGA-II) whose trials run on Ray, resumable.

    report = sweep(load_config("sweep.toml"), "out/")            # a local Ray
    report = sweep(config, "out/", ray_address="10.0.0.5:6379")  # an existing cluster
    report = sweep(config, "out/", serial=True)                  # this process only

The study lives in OUT/study.journal (Optuna's journal file storage): an interrupted sweep run
again with the same OUT continues where it stopped. Trials are asked in rounds of
`population` (NSGA-II's generation), a fresh sampler per round seeded with the sweep's seed and
the round's first trial number, and told in trial order once the round is back: what is asked
depends only on the stored results, so serial, parallel and resumed sweeps ask the same trials.
Each distinct set of parameters is trained once (OUT/trials/<key>.json + .tflite): a repeat is
read back, so the results are a function of the parameters and the seed.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from tinyflow import events
from tinyflow.errors import UsageError
from tinyflow.search.config import SweepConfig
from tinyflow.search.pareto import fmt_value as _fmt

STUDY = "tinyflow-sweep"
JOURNAL = "study.journal"


@dataclass
class SweepReport:
    """What a sweep did: trials run, read back, failed; the front (pareto.json) and where it went."""

    out: str
    executor: str
    trials_planned: int
    completed: int = 0
    failed: int = 0
    resumed: int = 0  # trials already finished in OUT when this run started
    reused: int = 0  # trials whose parameters an earlier round had trained (read back, not trained again)
    seconds: float = 0.0
    objectives: list[str] = field(default_factory=list)
    front: list[dict] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def __str__(self) -> str:
        lines = [
            f"Sweep of {self.trials_planned} trials on {self.executor}: {self.completed} completed, "
            f"{self.failed} failed ({self.resumed} resumed, {self.reused} read back) in {self.seconds:.1f} s",
            f"Pareto front ({len(self.front)} trials):",
        ]
        keys = sorted({k for t in self.front for k in t["params"]})
        head = ["trial", *keys, *self.objectives]
        rows = [
            [str(t["number"]), *(str(t["params"][k]) for k in keys), *(_fmt(t["metrics"][o]) for o in self.objectives)]
            for t in self.front
        ]
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        lines += ["  " + "  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in [head, *rows]]
        lines += [f"wrote {f}" for f in self.files]
        return "\n".join(lines)


def sweep(
    config: SweepConfig,
    out: str | Path,
    *,
    ray_address: str | None = None,
    workers: int | None = None,
    serial: bool = False,
    tracking_uri: str | None = None,
) -> SweepReport:
    """Run (or continue) the sweep in `out`; write pareto.json and pareto.html there.

    Emits (tinyflow.events): the stage "ray" while Ray starts, Progress("sweep", done, trials).
    Raises:
        UsageError: `out` holds a sweep of another configuration; bad options.
        TinyflowError: Ray unreachable, a trial past its deadline, the tracking store failing.
    """
    from tinyflow.outputs import make_dir
    from tinyflow.search.executor import RayExecutor, SerialExecutor
    from tinyflow.workflows.journal import lock_folder

    if workers is not None and (serial or ray_address):
        raise UsageError("--workers sizes a local Ray", "Drop --workers with --serial or --ray-address.")
    start = time.monotonic()
    out = make_dir(Path(out))
    with lock_folder(out):  # one sweep per folder: two would interleave one study
        study = open_study(config, out)
        resumed = sum(1 for t in study.trials if t.state.is_finished())
        if serial:
            executor = SerialExecutor()
        else:
            with events.stage("ray", "connecting" if ray_address else "starting a local Ray"):
                executor = RayExecutor(ray_address, workers)
        runner = _Runner(config, out, study, executor, tracking_uri)
        try:
            runner.run()
        finally:
            executor.close()
        report = SweepReport(str(out), executor.name, config.trials, resumed=resumed, reused=runner.reused)
        return _finish(report, config, study, start)


def open_study(config: SweepConfig, out: Path):
    """The study in OUT/study.journal, created or loaded; refused when made with another configuration."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = JournalStorage(JournalFileBackend(str(out / JOURNAL)))
    study = optuna.create_study(
        study_name=STUDY,
        storage=storage,
        directions=config.directions,
        load_if_exists=True,
        sampler=_sampler(config, 0),
    )
    digest = study.user_attrs.get("config_sha256")
    if digest is None:
        study.set_user_attr("config_sha256", config.digest())
        study.set_user_attr("config", config.to_dict())
    elif digest != config.digest():
        raise UsageError(
            f"{out} holds a sweep of another configuration (config sha256 {digest[:12]})",
            "Give a new output folder, or the configuration that sweep was started with.",
        )
    return study


def _sampler(config: SweepConfig, first: int):
    import optuna

    return optuna.samplers.NSGAIISampler(population_size=config.population, seed=(config.seed + first) % 2**32)


class _Runner:
    """Asks rounds of trials, runs them on the executor, tells the results in trial order."""

    def __init__(self, config: SweepConfig, out: Path, study, executor, tracking_uri):
        self.config, self.out, self.study, self.executor = config, out, study, executor
        self.settings = config.to_dict()
        self.tracker = _Tracker(tracking_uri, config, out) if tracking_uri else None
        self.reused = 0

    def run(self) -> None:
        import optuna

        stale = [t for t in self.study.trials if t.state == optuna.trial.TrialState.RUNNING]
        if stale:  # asked by an interrupted run: the same parameters (suggesting again returns them), run again
            trials = [optuna.trial.Trial(self.study, t._trial_id) for t in stale]
            self._round([(t.number, t, self._suggest(t)) for t in trials])
        while len(self.study.trials) < self.config.trials:
            first = len(self.study.trials)
            self.study.sampler = _sampler(self.config, first)
            size = min(self.config.population, self.config.trials - first)
            asked = [self.study.ask() for _ in range(size)]
            self._round([(t.number, t, self._suggest(t)) for t in asked])

    def _suggest(self, trial) -> dict:
        return {k: trial.suggest_categorical(k, list(v)) for k, v in self.config.space.dimensions().items()}

    def _round(self, asked: list) -> None:
        """Run the round's distinct parameter sets not trained before, then tell every trial in order."""
        keys = [self._key(params) for _, _, params in asked]
        todo = {k: p for k, (_, _, p) in zip(keys, asked) if self._cached(k) is None}
        results = self.executor.results(list(todo.values()), self.settings, self.config.trial_timeout)
        for done, (key, result) in enumerate(zip(todo, results), start=1):
            self._store(key, result)
            events.emit(events.Progress("round", done, len(todo), f"trained {key}"))
        self.reused += sum(1 for k in keys if k not in todo)
        for (number, trial, params), key in zip(asked, keys):
            self._tell(number, trial, params, self._cached(key))

    def _key(self, params: dict) -> str:
        text = json.dumps({"params": params, "config": self.config.digest()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def _cached(self, key: str) -> dict | None:
        path = self.out / "trials" / f"{key}.json"
        return json.loads(path.read_text()) if path.is_file() else None

    def _store(self, key: str, result: dict) -> None:
        from tinyflow.outputs import atomic_write, make_dir
        from tinyflow.report import to_json

        folder = make_dir(self.out / "trials")
        model = result.pop("model", None)
        if model is not None:
            atomic_write(folder / f"{key}.tflite", model)
            result["model"] = f"trials/{key}.tflite"
        atomic_write(folder / f"{key}.json", (to_json(result) + "\n").encode())  # last: the mark of a finished trial

    def _tell(self, number: int, trial, params: dict, result: dict) -> None:
        import optuna

        metrics = result.get("metrics")
        trial.set_user_attr("result", result)
        if metrics is None or any(metrics.get(o) is None for o in self.config.metric_objectives):
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            if "fit" in self.config.objectives:  # NSGA-II's constrained domination: <= 0 is feasible
                trial.set_constraint("fit", 0.0 if metrics.get("fits", True) else 1.0)
            self.study.tell(trial, [float(metrics[o]) for o in self.config.metric_objectives])
        if self.tracker is not None:
            self.tracker.log(number, params, result)
        done = sum(1 for t in self.study.trials if t.state.is_finished())
        detail = result.get("error") or " ".join(f"{o}={_fmt(metrics[o])}" for o in self.config.metric_objectives)
        events.emit(events.Progress("sweep", done, self.config.trials, f"trial {number}: {detail}"[:200]))


class _Tracker:
    """Logs each told trial as one MLflow run (tinyflow.tracking), tagged with its sweep and number."""

    def __init__(self, uri: str, config: SweepConfig, out: Path):
        from tinyflow.tracking import guarded, open_client

        self.uri, self.config, self.sweep_id = uri, config, f"{out.resolve()}#{config.digest()[:12]}"
        with guarded(uri, "open the tracking store"):
            self.client = open_client(uri)

    def log(self, number: int, params: dict, result: dict) -> str:
        from tinyflow.tracking import guarded
        from tinyflow.tracking.record import RunRecord, dataset_ref
        from tinyflow.tracking.store import log_record

        metrics = {k: float(v) for k, v in (result.get("metrics") or {}).items() if v is not None}
        record = RunRecord(
            "sweep",
            f"sweep trial {number}",
            params={k: str(v) for k, v in params.items()},
            metrics=metrics,
            tags={
                "tinyflow.verb": "sweep",
                "tinyflow.sweep": self.sweep_id,
                "tinyflow.trial": str(number),
                "tinyflow.trial_state": "failed" if "error" in result else "completed",
            },
            report={k: v for k, v in result.items() if k != "model"},
            dataset=dataset_ref(self.config.dataset, self.config.seed),
        )
        with guarded(self.uri, f"log sweep trial {number}"):
            return log_record(self.client, record)


def completed_trials(study, config: SweepConfig) -> list[dict]:
    """{"number", "params", "metrics", "feasible"} of every completed trial, by number."""
    out = []
    for t in study.trials:
        if t.state.name == "COMPLETE":
            metrics = t.user_attrs["result"]["metrics"]
            feasible = bool(metrics.get("fits", True)) or "fit" not in config.objectives
            model = t.user_attrs["result"].get("model")  # trials/<key>.tflite, relative to OUT
            out.append(
                {"number": t.number, "params": dict(t.params), "metrics": metrics, "feasible": feasible, "model": model}
            )
    return out


def _finish(report: SweepReport, config: SweepConfig, study, start: float) -> SweepReport:
    from tinyflow.search.pareto import front_document, write_front

    trials = completed_trials(study, config)
    report.completed = len(trials)
    report.failed = sum(1 for t in study.trials if t.state.name == "FAIL")
    report.objectives = list(config.metric_objectives)
    report.seconds = round(time.monotonic() - start, 1)
    summary = {
        "completed": report.completed,
        "failed": report.failed,
        "trials_planned": config.trials,
        "executor": report.executor,
        "dataset": config.dataset,
        "target": config.target,
        "seed": config.seed,
    }
    document = front_document(config, trials, summary)
    report.front = document["front"]
    report.files = [str(p) for p in write_front(Path(report.out), document)]
    return report
