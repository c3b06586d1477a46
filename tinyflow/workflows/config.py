"""What each workflow is asked to do: one frozen config per workflow, checked once when it is made.

    config = EvalConfig("kws.tflite", dataset="random:100", target="sim://host", report_dir="out")
    report = evaluate(config)

The CLI builds these from its options; Python callers build them directly. Every check of a
field lives here and raises UsageError naming the option as the CLI spells it, so a bad value
fails before a device is opened or a model trained. Imports nothing heavy (the facade exposes
the configs without loading numpy).
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Union

from tinyflow.errors import UsageError

ModelSource = Union[str, Path, bytes]
SPLITS = ("test", "val", "train", "all")
MAX_SEED = 2**32 - 1  # numpy and TensorFlow take 32-bit unsigned seeds


def _set(config, name: str, value) -> None:
    object.__setattr__(config, name, value)  # normalising a frozen dataclass field in __post_init__


def _int_in(value, option: str, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise UsageError(f"{option} must be a whole number {bound}, got {value!r}", f"Pass e.g. {option} {low}.")


def _fraction(value, option: str) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not (ok and 0 <= value < 1):
        raise UsageError(f"{option} must be a fraction from 0 up to (not including) 1, got {value!r}", "Pass e.g. 0.5.")


def _timeout(value) -> None:
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise UsageError(
            f"The timeout must be a finite number of seconds above 0, got {value!r}", "Pass e.g. --timeout 5."
        )  # a nan or inf deadline never comes


def _text(value, option: str) -> None:
    if not isinstance(value, str) or not value:
        raise UsageError(f"{option} must be a non-empty string, got {value!r}", f"Pass {option} explicitly.")


def _model(value) -> None:
    if not isinstance(value, (str, Path, bytes, bytearray)) or (isinstance(value, str) and not value):
        raise UsageError(
            f"The model must be a .tflite path or its bytes, got {type(value).__name__}", "Pass the model's path."
        )


@dataclass(frozen=True)
class EvalConfig:
    """`tinyflow eval`: stream `dataset` to `model` on `target`, compare with the host reference.

    Args:
        model: the int8 .tflite (path or bytes).
        dataset: random:N, a built-in dataset, or a .npz/.csv file.
        target: sim://tflm, sim://host, sim://qemu-m4, a device path or a pyserial URL.
        split: test, val, train or all; default the held-out test split of a built-in dataset
            (as train/prune/quantize split it with the same seed) and all samples of a file.
        limit: evaluate only the first N samples.
        window: requests kept in flight on the link.
        report_dir: write report.json, report.html and the resume journal there.
        resume: continue the journal in report_dir (refused if it was made with another config).
        faults: fault injection spec, e.g. "ber=1e-4,drop=1e-4,reset_every=500" (testing aid).
        baud: emulate this line rate (testing aid).
        seed: seed of random:N and generated datasets (and of the fault injector).
        timeout: seconds a complete reply frame may take before the request is retried.
        frontend: a front end name (micro_speech, mfcc, imu) for a model without a sidecar; the
            device then computes the features from raw signals (the sidecar wins when present).
        class_names: the model's output classes in order, for a model that carries none; dataset
            labels are matched to them by name.
    """

    model: ModelSource
    _: KW_ONLY
    dataset: str
    target: str = "sim://tflm"
    split: str | None = None
    limit: int | None = None
    window: int = 4
    report_dir: Path | None = None
    resume: bool = False
    faults: str | None = None
    baud: int | None = None
    seed: int = 0
    timeout: float = 5.0
    frontend: str | None = None
    class_names: tuple[str, ...] = ()

    def __post_init__(self):
        _model(self.model)
        if self.frontend is not None:
            from tinyflow.frontends import default_config

            default_config(self.frontend)  # UsageError naming the front ends
        _set(self, "class_names", tuple(self.class_names))
        if len(set(self.class_names)) != len(self.class_names) or not all(self.class_names):
            raise UsageError("--class-names must be distinct and not empty", "Give them as yes,no,up,down.")
        _set(self, "dataset", str(self.dataset) if isinstance(self.dataset, Path) else self.dataset)
        _text(self.dataset, "--dataset")
        _text(self.target, "--target")
        if self.split is not None and self.split not in SPLITS:
            raise UsageError(
                f"--split must be one of {', '.join(SPLITS)}, got {self.split!r}", "Pass e.g. --split test."
            )
        if self.limit is not None:
            _int_in(self.limit, "--limit", 1)
        _int_in(self.window, "--window", 1)  # 1: no streaming, one request at a time
        if self.baud is not None:
            _int_in(self.baud, "--baud", 300)
        _int_in(self.seed, "--seed", 0, MAX_SEED)
        _timeout(self.timeout)
        if self.report_dir is not None:
            _set(self, "report_dir", Path(self.report_dir))
        elif self.resume:
            raise UsageError(
                "--resume needs --report DIR: the journal to resume lives there",
                "Pass the same --report directory as the interrupted run.",
            )


@dataclass(frozen=True)
class ProfileConfig:
    """`tinyflow profile`: `runs` profiled inferences of `model` on `target` (random inputs from `seed`).

    `timeout` has eval's meaning: the seconds a complete reply frame may take before the request
    is retried (the handshake gets a few of them, like eval's). `board` picks the board whose
    budgets and clock apply on a simulator.
    """

    model: str | Path
    _: KW_ONLY
    target: str = "sim://tflm"
    board: str | None = None
    runs: int = 1
    seed: int = 0
    timeout: float = 5.0

    def __post_init__(self):
        if not isinstance(self.model, (str, Path)) or not str(self.model):
            raise UsageError(f"The model must be a .tflite path, got {self.model!r}", "Pass the model's path.")
        _text(self.target, "--target")
        if self.board is not None:
            _text(self.board, "--board")
        _int_in(self.runs, "--runs", 1, 100)
        _int_in(self.seed, "--seed", 0, MAX_SEED)
        _timeout(self.timeout)


DEMO_TASKS = ("digits", "kws", "har")  # tinyflow.workflows.demo_tasks.TASKS (kept import-free here)
# The default first. kws: micro_speech's PCAN gain control copes with the synthesized level changes;
# after 50% unstructured pruning it kept 0.94 on held-out voices where mfcc kept 0.91 (docs/frontends.md).
DEMO_FRONTENDS = {"digits": (), "kws": ("micro_speech", "mfcc"), "har": ("imu",)}
DEMO_EPOCHS = {"digits": 40, "kws": 60, "har": 30}
# kws_cnn is small: 12 fine-tuning epochs after pruning (6 for the unstructured step) lost 6 points
DEMO_FINETUNE = {"digits": 12, "kws": 24, "har": 12}
DEMO_NAMES = {"digits": "digits_cnn", "kws": "kws_cnn", "har": "har_mlp"}


@dataclass(frozen=True)
class DemoConfig:
    """`tinyflow demo`; the defaults reach int8 accuracy >= 0.90, within 2 points of float (digits).

    `task` picks the data and model (docs/pipeline.md): digits, kws (synthesized speech through a
    front end) or har (basic-motions IMU through the imu front end). `frontend`, `epochs`,
    `finetune_epochs` and `name` default to the task's (None).
    """

    out: Path = Path("tinyflow-demo")
    seed: int = 0
    epochs: int | None = None
    finetune_epochs: int | None = None  # structured pruning's; the unstructured step gets half
    ratio: float = 0.5  # structured: fraction of filters/units removed
    sparsity: float = 0.5  # unstructured: fraction of remaining weights zeroed
    board: str = "nano33ble"
    calibration: int = 200
    name: str | None = None  # C identifier stem of the exported array
    # Where the int8 model is evaluated: the same default as EvalConfig (works with no compiler);
    # sim://host runs the compiled firmware and falls back to sim://tflm without cc.
    target: str = "sim://tflm"
    task: str = "digits"
    frontend: str | None = None

    def __post_init__(self):
        _set(self, "out", Path(self.out))
        if self.task not in DEMO_TASKS:
            raise UsageError(
                f"--task must be one of {', '.join(DEMO_TASKS)}, got {self.task!r}", "Pass e.g. --task kws."
            )
        allowed = DEMO_FRONTENDS[self.task]
        if self.frontend is not None and self.frontend not in allowed:
            takes = f"takes --frontend {' or '.join(allowed)}" if allowed else "takes no --frontend"
            raise UsageError(
                f"--task {self.task} {takes}, got {self.frontend!r}", "Leave --frontend out for the default."
            )
        _set(self, "frontend", self.frontend or (allowed[0] if allowed else None))
        _set(self, "epochs", DEMO_EPOCHS[self.task] if self.epochs is None else self.epochs)
        if self.finetune_epochs is None:
            _set(self, "finetune_epochs", DEMO_FINETUNE[self.task])
        _set(self, "name", DEMO_NAMES[self.task] if self.name is None else self.name)
        _int_in(self.seed, "--seed", 0, MAX_SEED)
        _int_in(self.epochs, "--epochs", 1, 1000)
        _int_in(self.finetune_epochs, "finetune_epochs", 0, 1000)
        _fraction(self.ratio, "ratio")
        _fraction(self.sparsity, "sparsity")
        _int_in(self.calibration, "calibration", 1, 100_000)
        _text(self.board, "--board")
        _text(self.name, "name")
        _text(self.target, "--target")
