"""Drift between a reference profile and a device reading: PSI and KS per feature (from the
16-bin histograms), the drop of the mean top-1 confidence, the class-prior shift (PSI of the class
mix), the out-of-distribution signals (saturated inputs, low-confidence share), and one verdict.

PSI (population stability index) = sum over bins of (q - p) * ln(q / p), p the reference's share
of a bin and q the reading's; both get half a count per bin first (so an empty bin is not an
infinite score, and a few samples do not make one). KS = the largest gap between the two
cumulative histograms (the two-sample Kolmogorov-Smirnov statistic of the binned values).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from tinyflow.errors import DataError
from tinyflow.monitor.profile import Profile
from tinyflow.report import table

SMOOTHING = 0.5  # counts added to every bin before shares are taken


@dataclass(frozen=True)
class Thresholds:
    """When a reading is an alert (any one exceeded) or a warning (PSI between warn and alert).

    The PSI levels are the usual rule of thumb (< 0.1 stable, 0.1-0.25 moderate, > 0.25 shifted)."""

    psi_warn: float = 0.1
    psi_alert: float = 0.25
    ks_alert: float = 0.25
    confidence_drop: float = 0.10
    class_psi: float = 0.25
    saturation_rise: float = 0.05
    min_windows: int = 10

    @classmethod
    def parse(cls, text: str) -> Thresholds:
        """From 'psi_alert=0.3,ks_alert=0.2' (names of the fields); raises DataError."""
        values = {}
        for item in filter(None, (p.strip() for p in text.split(","))):
            key, _, value = item.partition("=")
            if key not in cls.__dataclass_fields__:
                raise DataError(f"Unknown threshold '{key}'", f"Use some of: {', '.join(cls.__dataclass_fields__)}.")
            try:
                values[key] = int(value) if key == "min_windows" else float(value)
            except ValueError:
                raise DataError(f"Threshold {key}={value!r} is not a number", "Write e.g. psi_alert=0.3.") from None
            if not values[key] >= 0:
                raise DataError(f"Threshold {key}={value} is negative", "Thresholds are >= 0.")
        return cls(**values)


def shares(counts) -> np.ndarray:
    """Bin shares after SMOOTHING half counts."""
    c = np.asarray(counts, np.float64) + SMOOTHING
    return c / c.sum()


def psi(ref_counts, cur_counts) -> float:
    p, q = shares(ref_counts), shares(cur_counts)
    return float(np.sum((q - p) * np.log(q / p)))


def ks(ref_counts, cur_counts) -> float:
    """Largest gap between the cumulative shares of two histograms (unsmoothed; 0 if either is empty)."""
    a, b = np.asarray(ref_counts, np.float64), np.asarray(cur_counts, np.float64)
    if a.sum() <= 0 or b.sum() <= 0:
        return 0.0
    return float(np.max(np.abs(np.cumsum(a) / a.sum() - np.cumsum(b) / b.sum())))


@dataclass
class FeatureDrift:
    column: int
    psi: float
    ks: float
    mean_ref: float
    mean_now: float


@dataclass
class DriftReport:
    """One reading compared with the reference."""

    windows: int
    verdict: str  # ok | warn | alert | too-few (fewer windows than min_windows)
    reasons: list[str]
    features: list[FeatureDrift]
    confidence_ref: float
    confidence_now: float
    class_psi: float
    class_mix_ref: list[float]
    class_mix_now: list[float]
    saturation_ref: float
    saturation_now: float
    low_confidence_ref: float
    low_confidence_now: float
    thresholds: Thresholds = field(default_factory=Thresholds)
    monitor_ticks_per_window: float = 0.0  # device ticks the monitor itself spent per inference

    @property
    def drift_score(self) -> float:
        """The largest feature PSI (0 without feature statistics)."""
        return max((f.psi for f in self.features), default=0.0)

    @property
    def confidence_drop(self) -> float:
        return self.confidence_ref - self.confidence_now

    def top(self, n: int = 5) -> list[FeatureDrift]:
        return sorted(self.features, key=lambda f: -f.psi)[:n]

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(drift_score=self.drift_score, confidence_drop=self.confidence_drop)
        return d

    def __str__(self) -> str:
        rows = [
            [f"col {f.column}", f"{f.psi:.3f}", f"{f.ks:.3f}", f"{f.mean_ref:.2f}", f"{f.mean_now:.2f}"]
            for f in self.top()
        ]
        lines = [
            table(["feature", "PSI", "KS", "mean ref", "mean now"], rows, title="Drift per feature (top 5 by PSI)")
        ]
        lines.append(
            f"windows {self.windows}  confidence {self.confidence_ref:.3f} -> {self.confidence_now:.3f}  "
            f"class-mix PSI {self.class_psi:.3f}  saturated {self.saturation_ref:.1%} -> {self.saturation_now:.1%}  "
            f"low-confidence {self.low_confidence_ref:.1%} -> {self.low_confidence_now:.1%}"
        )
        lines.append(f"verdict: {self.verdict}" + (f" ({'; '.join(self.reasons)})" if self.reasons else ""))
        return "\n".join(lines)


def _check_shapes(ref: Profile, now: Profile) -> None:
    if (
        ref.columns != now.columns
        or len(ref.class_counts) != len(now.class_counts)
        or ref.input_dtype != now.input_dtype
    ):
        raise DataError(
            f"The reference profile ({ref.columns} columns, {len(ref.class_counts)} classes, {ref.input_dtype} input) "
            f"does not match the device's ({now.columns} columns, {len(now.class_counts)} classes, {now.input_dtype})",
            "Use the <model>.monitor.json written for the model the device runs.",
        )


def compare(ref: Profile, now: Profile, thresholds: Thresholds | None = None) -> DriftReport:
    """Drift of the reading `now` against the reference `ref`, with a verdict."""
    t = thresholds or Thresholds()
    _check_shapes(ref, now)
    feats = [
        FeatureDrift(c, psi(ref.hist[c], now.hist[c]), ks(ref.hist[c], now.hist[c]), *_means(ref, now, c))
        for c in range(ref.columns)
    ]
    mix_ref = np.append(ref.class_counts, ref.class_other)
    mix_now = np.append(now.class_counts, now.class_other)
    report = DriftReport(
        windows=now.windows,
        verdict="ok",
        reasons=[],
        features=feats,
        confidence_ref=ref.mean_confidence(),
        confidence_now=now.mean_confidence(),
        class_psi=psi(mix_ref, mix_now),
        class_mix_ref=[float(v) for v in mix_ref / max(mix_ref.sum(), 1)],
        class_mix_now=[float(v) for v in mix_now / max(mix_now.sum(), 1)],
        saturation_ref=ref.saturation(),
        saturation_now=now.saturation(),
        low_confidence_ref=ref.low_confidence(),
        low_confidence_now=now.low_confidence(),
        thresholds=t,
        monitor_ticks_per_window=now.ticks / now.windows if now.windows else 0.0,
    )
    report.verdict, report.reasons = _verdict(report, t)
    return report


def _means(ref: Profile, now: Profile, c: int) -> tuple[float, float]:
    return float(ref.mean()[c]), float(now.mean()[c])


def _verdict(r: DriftReport, t: Thresholds) -> tuple[str, list[str]]:
    if r.windows < t.min_windows:
        return "too-few", [f"{r.windows} windows observed, fewer than {t.min_windows}"]
    reasons = []
    worst = max(r.features, key=lambda f: f.psi, default=None)
    if worst is not None and worst.psi > t.psi_alert:
        reasons.append(f"feature {worst.column} PSI {worst.psi:.3f} > {t.psi_alert}")
    ks_worst = max(r.features, key=lambda f: f.ks, default=None)
    if ks_worst is not None and ks_worst.ks > t.ks_alert:
        reasons.append(f"feature {ks_worst.column} KS {ks_worst.ks:.3f} > {t.ks_alert}")
    if r.confidence_drop > t.confidence_drop:
        reasons.append(f"confidence dropped {r.confidence_drop:.3f} > {t.confidence_drop}")
    if r.class_psi > t.class_psi:
        reasons.append(f"class-mix PSI {r.class_psi:.3f} > {t.class_psi}")
    if r.saturation_now - r.saturation_ref > t.saturation_rise:
        reasons.append(f"saturated inputs rose {r.saturation_now - r.saturation_ref:.1%} > {t.saturation_rise:.0%}")
    if reasons:
        return "alert", reasons
    if worst is not None and worst.psi > t.psi_warn:
        return "warn", [f"feature {worst.column} PSI {worst.psi:.3f} > {t.psi_warn}"]
    return "ok", []
