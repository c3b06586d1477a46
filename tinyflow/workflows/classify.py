"""`tinyflow classify`: the device reads its sensor, runs its front end and model, and streams each
prediction (application mode, firmware/src/app.c; docs/data.md "Live classification").

    config = ClassifyConfig("kws.tflite", target="sim://host?sensor=yes.wav", count=5)
    report = classify_live(config, on_prediction=print)   # LivePrediction per window, then the report

The device does the work; the host only labels, dequantizes and times what it reads. Raw inputs
stay on the device unless the user opts in: with `sample_below` and `output` the windows whose
top-1 confidence is below the threshold are read (WINDOW) and written into a dataset store with
the label "unlabelled" and group "window-<index>", ready for labelling (docs/operations.md).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from tinyflow import events
from tinyflow.errors import UsageError
from tinyflow.report import fmt_latency, key_values, table

MAX_CLASS_NAMES = 4096
MAX_NAME_CHARS = 64
UNLABELLED = "unlabelled"  # the label of a sampled window until someone labels it


@dataclass(frozen=True)
class ClassifyConfig:
    """What `classify_live` runs; every field is checked once, here."""

    model: str
    target: str = "sim://host"
    stride: int = 0  # frames between window starts; 0 = the window (no overlap)
    count: int | None = None  # stop after this many predictions
    seconds: float | None = None  # stop after this long
    class_names: tuple[str, ...] = ()
    board: str | None = None
    timeout: float = 5.0
    sample_below: float = 0.0  # opt-in: keep windows whose top-1 confidence is below this (0 = none)
    output: str | None = None  # the store sampled windows are written into
    frontend: str | None = None  # a front end by name for a model without a sidecar (the sidecar wins)

    def __post_init__(self):
        if not Path(self.model).is_file():
            raise UsageError(f"Model {self.model} is not a file", "Give the .tflite the device runs.")
        if self.target.startswith("sim://tflm"):
            raise UsageError(
                "sim://tflm runs the model alone: it has no sensor and no application mode",
                "Use sim://host?sensor=FILE.wav (or sim://qemu-m4?sensor=...), or a board.",
            )
        if self.stride < 0 or self.stride > 0xFFFFFFFF:
            raise UsageError(f"Stride {self.stride} is out of range", "Give 0 (the window) or a frame count.")
        if self.count is not None and self.count < 1:
            raise UsageError(f"Count {self.count} must be at least 1", "Give --count N with N >= 1.")
        if self.seconds is not None and not (math.isfinite(self.seconds) and self.seconds > 0):
            raise UsageError(f"Seconds {self.seconds} must be a positive number", "Give --duration S with S > 0.")
        if not (math.isfinite(self.timeout) and self.timeout > 0):
            raise UsageError(f"Timeout {self.timeout} must be a positive number", "Give --timeout S with S > 0.")
        if len(self.class_names) > MAX_CLASS_NAMES:
            raise UsageError(f"{len(self.class_names)} class names are too many", f"Give at most {MAX_CLASS_NAMES}.")
        from tinyflow.frontends.config import CONFIGS, resolve_class_names
        from tinyflow.workflows.device import resolve_frontend

        if self.frontend is not None and self.frontend not in CONFIGS:
            raise UsageError(f"Unknown front end {self.frontend[:40]!r}", f"Use one of: {', '.join(CONFIGS)}.")
        # The front end and the labels as eval resolves them: the sidecar's, else --frontend /
        # --class-names; a --frontend or names that contradict the sidecar are usage errors.
        frontend = resolve_frontend(self.model, self.frontend)
        object.__setattr__(self, "class_names", resolve_class_names(frontend, self.class_names))
        if not (math.isfinite(self.sample_below) and 0 <= self.sample_below <= 1):
            raise UsageError(f"--sample-below {self.sample_below} is not a confidence", "Give a value in (0, 1].")
        if (self.sample_below > 0) != (self.output is not None):
            raise UsageError(
                "--sample-below and --output go together",
                "Give both: --sample-below 0.6 --output STORE keeps the unsure windows in STORE.",
            )


@dataclass
class LivePrediction:
    """One window's prediction as the host shows it (times in microseconds)."""

    index: int
    label: str
    top1: int
    confidences: list[float]
    device_us: int  # device clock at the window's first frame
    read_us: float
    frontend_us: float
    model_us: float

    @property
    def confidence(self) -> float:
        return self.confidences[self.top1] if self.top1 < len(self.confidences) else float("nan")

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "label": self.label,
            "top1": self.top1,
            "confidence": round(self.confidence, 6),
            "confidences": [round(c, 6) for c in self.confidences],
            "timing_us": {
                "read": round(self.read_us, 1),
                "features": round(self.frontend_us, 1),
                "inference": round(self.model_us, 1),
            },
            "device_us": self.device_us,
        }


@dataclass
class ClassifyReport:
    """What a classify run saw: counts per label, the rate, mean time per stage."""

    model: str
    target: str
    window_frames: int
    channels: int
    rate_hz: int
    predictions: int = 0
    lost: int = 0
    seconds: float = 0.0
    ended: str = ""  # why the device stopped on its own ("stream ended"), "" when the host stopped it
    sampled: int = 0  # windows written to the store (opt-in sampling)
    sampled_missed: int = 0  # unsure windows the device replaced before they were read
    store: str = ""
    labels: dict[str, int] = field(default_factory=dict)
    mean_us: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.predictions / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        return {**self.__dict__, "rate_per_s": round(self.rate, 3)}

    def __str__(self) -> str:
        window = f"{self.window_frames} frames x {self.channels} ch"
        if self.rate_hz:
            window += f" at {self.rate_hz} Hz ({self.window_frames / self.rate_hz * 1000:.0f} ms)"
        head = key_values(
            [
                ("model", self.model),
                ("target", self.target),
                ("window", window),
                ("predictions", f"{self.predictions} in {self.seconds:.1f} s ({self.rate:.1f}/s), {self.lost} lost"),
                ("stopped", self.ended or "by the host"),
                *([("sampled", f"{self.sampled} windows into {self.store}, {self.sampled_missed} missed")]
                  if self.store else []),
            ]
        )  # fmt: skip
        timing = " / ".join(f"{k} {fmt_latency(v)}" for k, v in self.mean_us.items())
        rows = [[name, n] for name, n in sorted(self.labels.items(), key=lambda kv: -kv[1])]
        return "\n".join([head, f"mean time: {timing}" if timing else "", table(["label", "windows"], rows)])


def classify_live(config: ClassifyConfig, on_prediction: Callable[[LivePrediction], None] | None = None):
    """Open the target with the model, start application mode, hand each prediction to `on_prediction`.

    Emits the stage "open" (a first firmware build is there). Returns a ClassifyReport.
    Raises:
        BoardError: no sensor for the front end; ModelError: firmware without a front end;
        LinkError: the device stopped answering; UsageError: bad config or target URL.
    """
    from tinyflow.targets.client import DeviceClient
    from tinyflow.workflows.device import open_device, resolve_frontend
    from tinyflow.workflows.evaluate import open_detail

    sink = _Sampler(config) if config.output else None  # a bad --output fails before the device opens
    with events.stage("open", open_detail(config.target)):
        port = open_device(
            config.target,
            model=config.model,
            board=config.board,
            timeout=config.timeout,
            frontend=resolve_frontend(config.model, config.frontend),
        )
    try:
        client = DeviceClient(port, timeout=config.timeout)
        info = client.handshake()
        deadline = None if config.seconds is None else time.monotonic() + config.seconds
        stream = client.classify(config.stride, deadline=deadline, count=config.count, sample_below=config.sample_below)
        report, totals, start = None, Counter(), time.monotonic()
        for p in stream:
            if report is None:
                report = _new_report(config, client.classify_info)
            if sink is not None and p.window is not None:
                sink.add(p, client.classify_info)
            live = to_live(p, info, config.class_names)
            report.predictions += 1
            report.labels[live.label] = report.labels.get(live.label, 0) + 1
            totals.update({"read": live.read_us, "features": live.frontend_us, "inference": live.model_us})
            if on_prediction is not None:
                on_prediction(live)
        report = report or _new_report(config, client.classify_info)
        report.seconds = time.monotonic() - start
        report.lost, report.ended = client.classify_lost, client.classify_end
        if sink is not None:
            report.sampled, report.sampled_missed = sink.close(), client.classify_windows_missed
            report.store = str(config.output)
        report.mean_us = {k: v / report.predictions for k, v in totals.items()} if report.predictions else {}
        return report
    finally:
        port.close()
        if sink is not None:
            sink.close()  # what was sampled before an error or Ctrl-C is kept


class _Sampler:
    """Writes the windows opt-in sampling brought back into a store (saved at the end, and on errors)."""

    def __init__(self, config: ClassifyConfig):
        from tinyflow.data import create_store
        from tinyflow.workflows.device import resolve_frontend

        frontend = resolve_frontend(config.model, config.frontend)
        self.sensor = "audio" if frontend is not None and frontend.name != "imu" else "imu"
        self.device = config.target
        self.store = create_store(config.output)
        self.added = 0

    def add(self, p, info) -> None:
        frames = np.frombuffer(p.window, dtype="<i2")
        if info.channels == 0 or frames.size != info.window_frames * info.channels:
            return  # a window of another shape than announced: not a sample of this stream
        data = frames.reshape(info.window_frames, info.channels).astype(np.int16)
        if self.sensor == "audio" and info.channels == 1:
            data = data[:, 0]
        _, added = self.store.add_sample(
            data, UNLABELLED, sensor=self.sensor, sample_rate=info.rate_hz, device=self.device[:200],
            group=f"window-{p.index}",
        )  # fmt: skip
        self.added += added
        if self.added % 32 == 0:
            self.store.save()  # a long run interrupted keeps what it sampled

    def close(self) -> int:
        self.store.save()
        return self.added


def _new_report(config: ClassifyConfig, info) -> ClassifyReport:
    return ClassifyReport(Path(config.model).name, config.target, info.window_frames, info.channels, info.rate_hz)


def to_live(p, info, class_names: tuple[str, ...] = ()) -> LivePrediction:
    """A device prediction (messages.Prediction) with its label, confidences and times in µs."""
    from tinyflow.targets.client import NUMPY_DTYPES

    spec = info.outputs[0]
    values = np.frombuffer(p.output, dtype=NUMPY_DTYPES.get(spec.dtype, np.uint8)).astype(np.float64)
    if spec.scale > 0 and spec.dtype != 0:
        values = spec.scale * (values - spec.zero_point)
    tps = info.ticks_per_second or 1_000_000
    return LivePrediction(
        index=p.index,
        label=label_of(p.top1, class_names),
        top1=p.top1,
        confidences=[float(c) for c in confidences(values)],
        device_us=int(p.ticks64 * 1_000_000 // tps),
        read_us=p.read_ticks * 1e6 / tps,
        frontend_us=p.frontend_ticks * 1e6 / tps,
        model_us=p.model_ticks * 1e6 / tps,
    )


def confidences(values: np.ndarray) -> np.ndarray:
    """Output 0 as class probabilities: as they are when they already are (a softmax output),
    else their softmax (logits)."""
    if values.size and values.min() >= -1e-6 and abs(float(values.sum()) - 1.0) <= 0.05:
        return values
    e = np.exp(values - values.max(initial=0.0))
    return e / e.sum() if e.sum() > 0 else e


def label_of(index: int, class_names: tuple[str, ...]) -> str:
    return class_names[index] if index < len(class_names) else str(index)


def parse_class_names(text: str | None) -> tuple[str, ...]:
    """`--class-names`: comma-separated names, or @FILE with one name per line.

    Raises:
        UsageError: an empty name, too many, or an unreadable file.
    """
    if not text:
        return ()
    if text.startswith("@"):
        from tinyflow.inputs import read_regular

        raw = read_regular(Path(text[1:]), "class names file", 1 << 20, UsageError).decode("utf-8", "replace")
        names = [line.strip() for line in raw.splitlines() if line.strip()]
    else:
        names = [n.strip() for n in text.split(",")]
    if not names or any(not n for n in names):
        raise UsageError(f"Class names {text[:80]!r} include an empty name", "Give them as yes,no,up,down or @FILE.")
    if len(names) > MAX_CLASS_NAMES:
        raise UsageError(f"{len(names)} class names are too many", f"Give at most {MAX_CLASS_NAMES}.")
    names = [n[:MAX_NAME_CHARS] for n in names]
    seen: set[str] = set()
    for name in names:  # two classes under one name would merge their counts
        if name in seen:
            raise UsageError(f"Class name {name!r} is given twice", "Give each class its own name, in output order.")
        seen.add(name)
    return tuple(names)
