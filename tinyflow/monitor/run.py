"""`tinyflow monitor`: poll a device's MONITOR statistics, compare them with the reference profile,
and publish the drift (terminal or JSON lines, Prometheus gauges, MLflow metrics, a live page).

Each evaluation covers the inferences since the previous one: the device's counters only grow
between resets, so a reading minus the last evaluated one is exactly what came in between (no
reset needed, so a lost reply loses nothing). `--once` evaluates what accumulated since the
device's last reset instead, and can reset after reading (cron: each run sees new data).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from tinyflow.errors import DataError, LinkError, UsageError
from tinyflow.monitor.drift import DriftReport, Thresholds, compare
from tinyflow.monitor.profile import Profile, from_device, load_profile

POLL_SECONDS = 0.2  # between readings while --once waits for its windows


@dataclass(frozen=True)
class MonitorConfig:
    """Everything `tinyflow monitor` was asked to do, checked once."""

    target: str
    reference: str
    model: str | None = None  # the .tflite a sim:// target builds; default: next to the reference
    interval: float = 5.0
    once: bool = False
    windows: int = 20
    start: bool = False
    reset: bool = False
    wait: float = 60.0  # longest wait for --windows observations (--once)
    timeout: float = 5.0
    polls: int = 0  # 0: until interrupted
    thresholds: Thresholds = field(default_factory=Thresholds)
    prometheus_port: int | None = None
    serve_port: int | None = None
    track_uri: str | None = None

    def __post_init__(self):
        if self.interval <= 0 or self.wait <= 0 or self.timeout <= 0:
            raise UsageError("--interval, --wait and --timeout must be positive", "Give a number of seconds > 0.")
        if self.windows < 1:
            raise UsageError(f"--windows {self.windows} is below 1", "Give at least one observation.")

    def model_path(self) -> str | None:
        if self.model:
            return self.model
        stem = Path(self.reference).name.removesuffix(".monitor.json")
        guess = Path(self.reference).with_name(stem + ".tflite")
        return str(guess) if guess.is_file() else None


def minus(now: Profile, before: Profile | None) -> Profile:
    """The observations between two readings of one device (all of `now` after a reset or reboot)."""
    if before is None or now.epoch != before.epoch or now.windows < before.windows or now.columns != before.columns:
        return now
    delta = _difference(now, before)
    if (delta.hist < 0).any() or (delta.confidence_hist < 0).any() or (delta.class_counts < 0).any():
        return now  # a counter went down: the device rebooted in between (its epoch restarted too)
    return delta


def _difference(now: Profile, before: Profile) -> Profile:
    return Profile(
        input_dtype=now.input_dtype,
        output_dtype=now.output_dtype,
        feature_dim=now.feature_dim,
        windows=now.windows - before.windows,
        elements=now.elements - before.elements,
        saturated=now.saturated - before.saturated,
        confidence_hist=now.confidence_hist - before.confidence_hist,
        class_counts=now.class_counts - before.class_counts,
        class_other=now.class_other - before.class_other,
        count=now.count - before.count,
        sum=now.sum - before.sum,
        sumsq=now.sumsq - before.sumsq,
        hist=now.hist - before.hist,
        epoch=now.epoch,
        ticks=(now.ticks - before.ticks) & 0xFFFFFFFF,
    )


def read_profile(client, reset: bool = False) -> Profile:
    return from_device(client.monitor(reset=reset))


def wait_for_windows(client, windows: int, deadline: float) -> Profile:
    """Poll until the device has observed `windows` inferences since its last reset.

    Raises:
        LinkError: the deadline passed first (the device is not classifying, or too slowly).
    """
    while True:
        reading = read_profile(client)
        if reading.windows >= windows:
            return reading
        if time.monotonic() >= deadline:
            raise LinkError(
                f"The device observed {reading.windows} inferences, not {windows}, before the deadline",
                "Start classification on the device (--start), or lower --windows / raise --wait.",
            )
        time.sleep(POLL_SECONDS)


def once(client, reference: Profile, config: MonitorConfig) -> DriftReport:
    """One reading of at least config.windows inferences, compared with the reference."""
    reading = wait_for_windows(client, config.windows, time.monotonic() + config.wait)
    if config.reset:
        # Read and reset in one request, so nothing observed after the reading is dropped. A
        # replayed reply (its first answer was lost) shows what came after the reset: keep the
        # reading taken just before instead.
        final = client.monitor(reset=True)
        if not final.replayed:
            reading = from_device(final)
    return compare(reference, reading, config.thresholds)


@dataclass
class Point:
    """One evaluation on the timeline (what the dashboard, Prometheus and MLflow show)."""

    step: int
    time: float
    report: DriftReport
    ticks_per_window: float

    def to_dict(self) -> dict:
        r = self.report
        return {
            "step": self.step,
            "time": self.time,
            "windows": r.windows,
            "verdict": r.verdict,
            "reasons": r.reasons,
            "drift_score": r.drift_score,
            "psi": [f.psi for f in r.features],
            "ks": [f.ks for f in r.features],
            "confidence": r.confidence_now,
            "confidence_ref": r.confidence_ref,
            "class_mix": r.class_mix_now,
            "class_mix_ref": r.class_mix_ref,
            "class_psi": r.class_psi,
            "saturation": r.saturation_now,
            "low_confidence": r.low_confidence_now,
            "ticks_per_window": self.ticks_per_window,
        }


class Timeline:
    """Readings in, evaluated points out (the last MAX_POINTS kept for the dashboard)."""

    MAX_POINTS = 500

    def __init__(self, reference: Profile, thresholds: Thresholds):
        self.reference, self.thresholds = reference, thresholds
        self.points: list[Point] = []
        self._base: Profile | None = None
        self._step = 0

    def add(self, reading: Profile) -> Point | None:
        """Evaluate what came since the last evaluation once it holds min_windows inferences."""
        delta = minus(reading, self._base)
        if delta.windows < max(1, self.thresholds.min_windows):
            return None  # keep accumulating: the next reading is compared with the same base
        self._base = reading
        self._step += 1
        report = compare(self.reference, delta, self.thresholds)
        point = Point(self._step, time.time(), report, delta.ticks / delta.windows if delta.windows else 0.0)
        self.points = [*self.points[-(self.MAX_POINTS - 1) :], point]
        return point

    def state(self) -> dict:
        ref = self.reference
        return {
            "columns": ref.columns,
            "class_names": list(ref.class_names) or [str(i) for i in range(len(ref.class_counts))],
            "thresholds": self.thresholds.__dict__,
            "points": [p.to_dict() for p in self.points],
        }


def load_reference(path: str) -> Profile:
    if not Path(path).is_file():
        raise DataError(
            f"No reference profile at {path}",
            "`tinyflow quantize` writes <model>.monitor.json next to the model; pass that file with --reference.",
        )
    return load_profile(path)


def open_client(config: MonitorConfig):
    """(port, DeviceClient after the handshake) for the config's target."""
    from tinyflow.targets.client import DeviceClient
    from tinyflow.workflows.device import open_device

    model = config.model_path()
    port = open_device(config.target, model=model, timeout=config.timeout)
    try:
        client = DeviceClient(port, timeout=config.timeout)
        client.handshake()
    except BaseException:
        port.close()
        raise
    return port, client


def class_names(reference: Profile) -> list[str]:
    return list(reference.class_names) or [str(i) for i in range(len(reference.class_counts))]


def summary_numbers(point: Point) -> dict[str, float]:
    """The numbers every exporter publishes for one point (MLflow metric names)."""
    r = point.report
    out = {
        "drift_score": r.drift_score,
        "confidence": r.confidence_now,
        "confidence_drop": r.confidence_drop,
        "class_psi": r.class_psi,
        "saturation": r.saturation_now,
        "low_confidence": r.low_confidence_now,
        "windows": float(r.windows),
        "alert": float(r.verdict == "alert"),
        "monitor_ticks_per_window": point.ticks_per_window,
    }
    for f in r.top(16):
        out[f"psi_col{f.column}"] = f.psi
    return out


class Session:
    """The exporters of one `tinyflow monitor` run (Prometheus, MLflow, dashboard), closed together."""

    def __init__(self, config: MonitorConfig, reference: Profile):
        from tinyflow.monitor.exporters import MlflowExporter, PrometheusExporter

        self.timeline = Timeline(reference, config.thresholds)
        self.exporters: list = []
        self.dashboard = None
        try:
            if config.prometheus_port is not None:
                self.exporters.append(
                    PrometheusExporter(config.prometheus_port, reference.columns, class_names(reference))
                )
            if config.track_uri:
                self.exporters.append(MlflowExporter(config.track_uri, config.target, config.reference))
            if config.serve_port is not None:
                from tinyflow.monitor.dashboard import Dashboard

                self.dashboard = Dashboard(config.serve_port, self.timeline.state, config.target, config.reference)
        except BaseException:
            self.close()
            raise

    def publish(self, point: Point) -> None:
        numbers = summary_numbers(point)
        for exporter in self.exporters:
            exporter.publish(point, numbers)

    def close(self) -> None:
        for closer in [*(e.close for e in self.exporters), *([self.dashboard.close] if self.dashboard else [])]:
            closer()
        self.exporters, self.dashboard = [], None


def start_classifying(client) -> None:
    """Send CLASSIFY_START (application mode): the device then observes its own sensor windows."""
    client.classify_start(0)


def watch(config: MonitorConfig, client, reference: Profile, on_point, session: Session | None = None) -> None:
    """Poll every config.interval seconds; call on_point(point) for each evaluation.

    Stops after config.polls readings (0: until KeyboardInterrupt, which the caller handles)."""
    session = session or Session(config, reference)
    polls = 0
    try:
        while not config.polls or polls < config.polls:
            point = session.timeline.add(read_profile(client))
            polls += 1
            if point is not None:
                session.publish(point)
                on_point(point)
            if not config.polls or polls < config.polls:
                time.sleep(config.interval)
    finally:
        session.close()


def run_monitor(config: MonitorConfig, reference: Profile, on_point, on_ready=None) -> DriftReport | None:
    """Open the target and monitor it: one DriftReport with config.once, else None after the polls.

    on_ready(text) receives the addresses of the dashboard and the Prometheus endpoint."""
    port, client = open_client(config)
    try:
        if config.start:
            start_classifying(client)
        session = Session(config, reference)
        if on_ready is not None:
            if session.dashboard is not None:
                on_ready(f"dashboard: {session.dashboard.url}")
            for e in session.exporters:
                if hasattr(e, "server"):
                    on_ready(f"metrics: http://127.0.0.1:{e.server.server_port}/metrics")
        if not config.once:
            watch(config, client, reference, on_point, session)
            return None
        try:
            report = once(client, reference, config)
            session.publish(Point(1, time.time(), report, report.monitor_ticks_per_window))
            return report
        finally:
            session.close()
    finally:
        port.close()
