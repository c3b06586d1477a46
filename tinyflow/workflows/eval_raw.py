"""Evaluation inputs for a model behind a front end: raw int16 windows (the device computes the
features), from random:N, a dataset store, a folder of WAV/CSV files labelled by folder name, or
a .npz/.csv of int16 values; and the host twin of what the device writes into the model's input.

Built on eval_data.py (its EvalData, size checks and random tensors); split from it so each stays
one concern: eval_data turns a dataset into model inputs, this module into raw sensor windows.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from tinyflow.data import DatasetSpec, Samples, check_seed, load_dataset, parse_spec
from tinyflow.data import split as split_dataset
from tinyflow.data.store import is_store
from tinyflow.errors import DataError, UsageError
from tinyflow.workflows.eval_data import (
    EvalData,
    TensorSpec,
    check_classes,
    check_count,
    check_sample_size,
    random_data,
    spec_dict,
)

AUDIO_FULL_SCALE = 32768.0  # a store's WAV samples are int16 / 32768 (tinyflow.data.store_dataset)


def raw_input_spec(frontend, model_input: TensorSpec) -> TensorSpec:
    """Input 0 of a device that runs `frontend`: int16 [window_frames, channels] (pipeline.h)."""
    from tinyflow.frontends import mapping

    frames = mapping.raw_window_frames(frontend, model_input.shape)
    return TensorSpec("raw", (frames, mapping.raw_channels(frontend)), np.dtype(np.int16))


def host_model_input(frontend, model_input: TensorSpec, raw: np.ndarray) -> np.ndarray:
    """What the device's front end writes into the model's input for one raw window (numpy twin)."""
    from tinyflow.frontends import mapping

    features = mapping.raw_features(frontend, mapping.raw_signal(frontend, raw))
    x = mapping.features_to_model_input(
        frontend, features, model_input.dtype, model_input.scale, model_input.zero_point
    )
    return x.reshape(model_input.shape)


def load_raw_eval_data(
    spec: str,
    frontend,
    model_input: TensorSpec,
    *,
    seed: int = 0,
    limit: int | None = None,
    split: str | None = None,
    outputs: list[TensorSpec] | None = None,
    class_names: tuple[str, ...] = (),
) -> EvalData:
    """Raw int16 windows for a device that runs `frontend`: random:N, a dataset store, a folder of
    WAV/CSV files labelled by folder name, or a .npz/.csv of int16 values.

    Each signal is cut or zero-padded to the window one inference takes; audio (micro_speech,
    mfcc) is WAV int16 (a store's [-1, 1) values times 32768), IMU values are taken as written
    and must be int16 integers.
    """
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be at least 1, got {limit}", "Pass a positive number of samples.")
    raw = raw_input_spec(frontend, model_input)
    check_sample_size([raw, model_input])
    check_seed(seed)
    path = Path(str(spec))
    if path.is_dir() and not is_store(path):
        names, labels, signals = _folder_signals(path, frontend)
        split = split or "all"
        if split != "all":
            raise UsageError(f"A folder of files has no {split} split", "Use --split all, or import it into a store.")
        name = path.resolve().name or "folder"
    else:
        parsed = parse_spec(spec)
        if parsed.kind == "random":
            data = random_data(parsed, [raw], seed, limit)
            data.identity = hashlib.sha256((data.identity + json.dumps(_frontend_key(frontend))).encode()).hexdigest()
            check_count(len(data), outputs or [], parsed)
            return data
        ds = load_dataset(parsed, seed=seed)
        if parsed.kind == "store":
            from tinyflow.data import open_store
            from tinyflow.frontends.mapping import raw_sample_rate

            for entry in open_store(parsed.path).entries:  # the manifest records each sample's rate
                _check_rate(entry.sample_rate, raw_sample_rate(frontend), parsed.path / entry.path)
        split = split or ("test" if parsed.kind in ("builtin", "store") else "all")
        if split != "all":
            ds = split_dataset(ds, seed=seed)[("train", "val", "test").index(split)]
        scale = AUDIO_FULL_SCALE if frontend.name != "imu" and parsed.kind == "store" else 1.0
        signals = [_int16(np.asarray(x) * scale, ds.name) for x in ds.x]
        names, labels, name = list(ds.class_names), np.asarray(ds.y), ds.name
    if limit is not None:
        signals, labels = signals[:limit], labels[:limit]
    if not signals:
        raise DataError(f"Dataset {name} has no samples in its {split} split", "Use --split all, or give more samples.")
    windows = np.stack([_fit_window(s, raw.shape) for s in signals])
    names, labels = remap_labels(names, labels, class_names, name)
    h = hashlib.sha256(json.dumps(["raw", spec_dict(raw), _frontend_key(frontend)]).encode())
    h.update(windows.data)
    data = EvalData(
        name=name,
        inputs=Samples(len(windows), lambda i: [windows[i]]),
        task="classification",
        labels=labels,
        class_names=names,
        identity=h.hexdigest(),
    )
    check_count(len(data), outputs or [], DatasetSpec(str(spec), "file", name))
    if outputs:
        check_classes(data, outputs[0])
    return data


def remap_labels(names: list[str], labels: np.ndarray, class_names: tuple[str, ...], where: str):
    """Labels renumbered into the model's class order (`--class-names` or the sidecar's); unchanged
    without one. Labels without names of their own (a file's 0..k-1) already are output indices:
    they keep their numbers and take `class_names` as names."""
    if not class_names:
        return list(names), labels
    if list(names) == [str(i) for i in range(len(names))] and not set(names) & set(class_names):
        top = int(np.max(labels, initial=-1))
        if top >= len(class_names):
            raise DataError(
                f"Dataset {where} has label {top} but the model has {len(class_names)} classes "
                f"({', '.join(class_names)[:200]})",
                "Number the labels by the model's outputs, or name them (class_names in the file).",
            )
        return list(class_names), labels
    index = {n: i for i, n in enumerate(class_names)}
    missing = sorted({names[int(y)] for y in labels} - set(index)) if names else []
    if not names or missing:
        raise DataError(
            f"Dataset {where} has labels {missing or 'without names'} that are not among the class names "
            f"{', '.join(class_names)[:200]}",
            "Give every label of the data in --class-names, in the model's output order.",
        )
    return list(class_names), np.array([index[names[int(y)]] for y in labels], dtype=np.int64)


def _frontend_key(frontend) -> dict:
    from tinyflow.frontends import config_to_dict

    return config_to_dict(frontend, class_names=False)  # what the inputs depend on: not the names


_INT16_HINT = "Give raw int16 sensor counts (whole numbers from -32768 to 32767): the front end takes those"


def _int16(x: np.ndarray, where: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(x)) or np.any(np.abs(x - np.rint(x)) > 1e-6):
        raise DataError(f"Dataset {where} holds values that are not integers", _INT16_HINT)
    if x.size and (x.min() < -32768 or x.max() > 32767):
        raise DataError(f"Dataset {where} holds values outside int16", _INT16_HINT)
    return np.rint(x).astype(np.int16)


def _check_rate(rate: float, wanted: int, path: Path) -> None:
    """A WAV at another rate than the front end's would be read as if it were at its rate."""
    if rate and wanted and rate != wanted:
        raise DataError(
            f"{path} is sampled at {rate:g} Hz but the front end takes {wanted} Hz",
            f"Resample it first: sox IN.wav -r {wanted} OUT.wav",
        )


def _fit_window(signal: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """`signal` [time] or [time, channels] cut or zero-padded to `shape` = (frames, channels)."""
    frames, channels = shape
    s = signal.reshape(len(signal), -1) if signal.ndim else signal.reshape(1, 1)
    if s.shape[1] != channels:
        raise DataError(
            f"A signal has {s.shape[1]} channels but the front end takes {channels}",
            "Evaluate with data of the sensor the model was trained on.",
        )
    out = np.zeros((frames, channels), dtype=np.int16)
    out[: min(frames, len(s))] = s[:frames]
    return out


def _folder_signals(root: Path, frontend) -> tuple[list[str], np.ndarray, list[np.ndarray]]:
    """Every WAV/CSV file in the subfolders of `root`, labelled by its subfolder's name."""
    from tinyflow.data.importer import SUFFIXES
    from tinyflow.data.manifest import MAX_ROWS
    from tinyflow.data.sample_files import decode_sample
    from tinyflow.data.store import MAX_SAMPLE_BYTES
    from tinyflow.frontends.mapping import raw_sample_rate
    from tinyflow.inputs import read_regular

    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink())
    names, labels, signals = [], [], []
    for folder in folders:
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and not p.name.startswith("."))
        for path in files:
            if len(signals) >= MAX_ROWS:
                raise DataError(f"{root} has more than {MAX_ROWS:,} recordings", "Evaluate fewer at a time.")
            raw = read_regular(path, "Recording", MAX_SAMPLE_BYTES, DataError)
            got = decode_sample(raw, SUFFIXES[path.suffix.lower()], str(path))
            _check_rate(got.sample_rate, raw_sample_rate(frontend), path)
            signals.append(_int16(got.data, str(path)))
            if folder.name not in names:
                names.append(folder.name)
            labels.append(names.index(folder.name))
    if not signals:
        raise DataError(
            f"{root} has no WAV or CSV files in subfolders", "Put each class's files in a folder of its name."
        )
    return names, np.array(labels, dtype=np.int64), signals
