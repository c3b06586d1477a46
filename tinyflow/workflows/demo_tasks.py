"""The demo's tasks: what `tinyflow demo --task digits|kws|har` trains on, and how.

- digits: the 8x8 digits, tiny_cnn (the demo as it has always been);
- kws: spoken keywords synthesized offline (`data synth-kws`: espeak-ng voices, the test voices
  never heard in training) -> the mfcc or micro_speech front end -> kws_cnn;
- har: basic-motions (real smartwatch IMU recordings shipped with aeon) as int16 sensor counts ->
  the IMU front end -> mlp.

kws and har write their raw recordings into a dataset store inside the demo folder, so the int8
model is evaluated the way a board runs it: eval sends the store's raw test signals and the device
computes the features (the model's `.frontend.json` sidecar names the front end, and the classes).

`stage_data` is the demo's data stage (tinyflow.workflows.demo.STAGES): it fills a DemoState's
splits, report["data"] and, for kws and har, its store and front end configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Task:
    """One demo task's data, model and training settings (its default front end, epochs and C name
    are DemoConfig's: tinyflow.workflows.config.DEMO_*)."""

    dataset: str  # what the summary calls the data
    model: str  # zoo name
    lr: float = 1e-3
    batch_size: int = 32
    patience: int = 8
    width: float = 1.0  # zoo width multiplier


TASKS = {
    "digits": Task("digits", "tiny_cnn"),
    # lr and patience: a few hundred clips give few steps an epoch, and val accuracy moves in jumps
    # width 2 (32 filters): structured pruning at 50% leaves 16, which still tells the words apart
    "kws": Task("synth-kws yes/no/up/down", "kws_cnn", 3e-3, 32, 20, 2.0),
    "har": Task("basic-motions", "mlp", 3e-3, 8, 20),
}
KWS_WORDS = ("yes", "no", "up", "down")
KWS_VOICES = 24  # 15 train, 4 val, 5 test voices (synth.voices_by_split)
KWS_REPEATS = 4  # clips per word and voice, each with its own speed, pitch, noise and level
# basic-motions holds m/s^2 and rad/s (largest |value| about 35); a sensor sends counts. 512 counts
# a unit keeps the largest value inside int16 with 1/512 resolution, like a +-64 unit IMU range.
HAR_COUNTS_PER_UNIT = 512


def make_store(task: str, out: Path, seed: int) -> Path:
    """Write the task's raw recordings into the store `out` (reused as is when run again)."""
    if task == "kws":
        from tinyflow.data.synth import synth_kws

        synth_kws(list(KWS_WORDS), out, voices=KWS_VOICES, repeats=KWS_REPEATS, seed=seed)
    else:
        _basic_motions_store(out)
    return out


def _basic_motions_store(out: Path) -> None:
    """basic-motions as int16 counts in CSV files, its published train/test split (and val) kept."""
    from tinyflow.data import create_store, load_dataset
    from tinyflow.data.motions import CHANNELS, RATE_HZ

    ds = load_dataset("basic-motions")
    counts = np.clip(np.rint(ds.x * HAR_COUNTS_PER_UNIT), -32767, 32767).astype(np.int16)
    with create_store(out) as store:
        for x, y, part in zip(counts, ds.y, ds.splits):
            store.add_sample(
                x, ds.class_names[int(y)], sensor="imu", sample_rate=RATE_HZ, device="smartwatch",
                captured_at="published", split=str(part), channels=CHANNELS,
            )  # fmt: skip


def featurize(store: Path, frontend: str, seed: int):
    """(front end configuration with its input scaling fitted on train, featurized (train, val, test))."""
    from tinyflow.data import load_dataset, split, validate
    from tinyflow.model.features import featurize_splits, frontend_for, signal_scale

    raw = validate(load_dataset(str(store)))
    config = frontend_for(frontend, raw)
    config, splits = featurize_splits(split(raw, seed=seed), config, signal_scale(config, "store"), fit=True)
    return config, splits


def stage_data(state) -> str:
    """The demo's data stage for `state.config.task` (a tinyflow.workflows.demo.DemoState)."""
    if state.config.task != "digits":
        return _raw_data(state)
    from tinyflow.data import load_dataset, split, validate

    ds = validate(load_dataset("digits"))
    state.splits = split(ds, seed=state.config.seed)
    tr, va, te = state.splits
    state.report["data"] = {
        "dataset": "digits",
        "train": len(tr),
        "val": len(va),
        "test": len(te),
        "input_shape": list(ds.input_shape),
        "classes": ds.num_classes,
    }
    return f"digits: {len(tr)} train / {len(va)} val / {len(te)} test samples of 8x8x1"


def _raw_data(state) -> str:
    """kws / har: raw recordings into a store, then the front end's features of each split (its
    configuration, with the input scaling fitted on train and the class names, goes to state.frontend)."""
    from tinyflow.frontends import config_to_dict

    cfg = state.config
    state.store = make_store(cfg.task, cfg.out / f"{cfg.task}-store", cfg.seed)
    state.frontend, state.splits = featurize(state.store, cfg.frontend, cfg.seed)
    tr, va, te = state.splits
    state.artifacts["store"] = str(state.store)
    state.report["data"] = {
        "dataset": TASKS[cfg.task].dataset,
        "store": str(state.store),
        "version": tr.version,
        "train": len(tr),
        "val": len(va),
        "test": len(te),
        "classes": list(tr.class_names),
        "frontend": config_to_dict(state.frontend),
        "input_shape": list(tr.input_shape),
    }
    shape = "x".join(map(str, tr.input_shape))
    return (
        f"{TASKS[cfg.task].dataset}: {len(tr)} train / {len(va)} val / {len(te)} test recordings "
        f"-> {cfg.frontend} features {shape}"
    )
