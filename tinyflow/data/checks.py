"""`tinyflow data check`: what is wrong with a store before a model learns it.

Errors (the verb exits 1): unreadable or changed files, NaN/inf, sample-rate mismatches, samples
of different shapes, the same sample in two splits (leakage) or under two labels.
Warnings: class imbalance (3:1 or worse), a class missing from a split, bias a model could learn
instead of the task (a class recorded only on its own device; in audio, a class much louder than
the others), clipping, silence, exact duplicates within a split, near duplicates across splits
(the same recording with a different gain or a little noise).
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from tinyflow.data.manifest import SPLITS, Entry
from tinyflow.data.store import MANIFEST, META, open_store
from tinyflow.data.store_dataset import sample_values
from tinyflow.errors import DataError
from tinyflow.report import table

IMBALANCE = 3.0  # largest class / smallest class flagged from this ratio
LOUDER_DB = 10.0  # an audio class this much louder (median RMS) than the others is a shortcut
SILENT_DBFS = -50.0
CLIPPED_FRACTION = 0.01  # of a sample's values at int16 full scale
NEAR = 0.98  # cosine similarity of two fingerprints that makes them near duplicates
FINGERPRINT = 1024  # values per fingerprint
MAX_PAIRS = 200_000_000  # near-duplicate comparisons at most (beyond: skipped, said in the report)


@dataclass
class Finding:
    level: str  # error or warning
    code: str
    message: str


@dataclass
class CheckReport:
    """What `data check` found: the class balance per split and the findings."""

    store: str
    version: str
    samples: int
    balance: dict[str, dict[str, int]] = field(default_factory=dict)  # label -> split -> count
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    def add(self, level: str, code: str, message: str) -> None:
        self.findings.append(Finding(level, code, message))

    def to_dict(self) -> dict:
        return {
            "store": self.store,
            "version": self.version,
            "samples": self.samples,
            "balance": self.balance,
            "errors": len(self.errors),
            "warnings": len(self.findings) - len(self.errors),
            "findings": [f.__dict__ for f in self.findings],
        }

    def __str__(self) -> str:
        rows = [[label, *(c.get(s, 0) for s in SPLITS), sum(c.values())] for label, c in self.balance.items()]
        lines = [
            f"Store {self.store}: {self.samples} samples, version {self.version[:16]}",
            table(["class", *SPLITS, "total"], rows, title="Class balance"),
        ]
        if self.findings:
            lines.append(table(["level", "check", "finding"], [[f.level, f.code, f.message] for f in self.findings]))
        errors = len(self.errors)
        lines.append(f"{errors} error(s), {len(self.findings) - errors} warning(s)")
        return "\n".join(lines)


def check_store(root, near: float = NEAR) -> CheckReport:
    """Read every sample of the store at `root` and report what is wrong with it (see module doc)."""
    store = open_store(root)
    report = CheckReport(str(root), store.version, len(store.entries))
    good: list[tuple[Entry, np.ndarray]] = []
    for entry, got in store.samples():
        if isinstance(got, DataError):
            report.add("error", "unreadable", str(got))
            continue
        _check_rate(report, entry, got.sample_rate)
        good.append((entry, got.data))
    _check_balance(report, store.entries)
    _check_orphans(report, store.root, {e.path for e in store.entries})
    _check_duplicates(report, store.entries)
    _check_values(report, good)
    _check_shapes_and_rates(report, good)
    _check_bias(report, good)
    _check_near_duplicates(report, good, near)
    return report


def _check_rate(report: CheckReport, e: Entry, header_rate: float) -> None:
    if header_rate and e.sample_rate and header_rate != e.sample_rate:
        report.add(
            "error",
            "sample-rate",
            f"{e.path} is {header_rate:g} Hz by its WAV header but {e.sample_rate:g} Hz by the manifest",
        )


def _check_balance(report: CheckReport, entries: list[Entry]) -> None:
    counts: dict[str, Counter] = defaultdict(Counter)
    for e in entries:
        counts[e.label][e.split] += 1
    report.balance = {label: dict(counts[label]) for label in sorted(counts)}
    totals = {label: sum(c.values()) for label, c in counts.items()}
    if len(totals) == 1:
        report.add("warning", "balance", f"only one class ({next(iter(totals))}): nothing to tell apart")
    elif totals:
        most, least = max(totals, key=totals.get), min(totals, key=totals.get)
        ratio = totals[most] / totals[least]
        if ratio >= IMBALANCE:
            report.add(
                "warning",
                "balance",
                f"classes are imbalanced {ratio:.1f}:1: {most} has {totals[most]} samples, {least} has {totals[least]}",
            )
    for split in SPLITS:
        if any(c[split] for c in counts.values()):
            missing = [label for label, c in sorted(counts.items()) if not c[split]]
            if missing:
                report.add("warning", "balance", f"the {split} split has no samples of {', '.join(missing[:10])}")


def _check_orphans(report: CheckReport, root, known: set[str]) -> None:
    extra = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            rel = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
            if rel not in known and rel not in (MANIFEST, META) and not name.startswith("."):
                extra.append(rel)
        if len(extra) > 1000:
            break
    if extra:
        report.add("warning", "orphans", f"{len(extra)} file(s) not in the manifest, e.g. {extra[0]}")


def _check_duplicates(report: CheckReport, entries: list[Entry]) -> None:
    by_sha: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        by_sha[e.sha256].append(e)
    for same in (group for group in by_sha.values() if len(group) > 1):
        paths = ", ".join(e.path for e in same[:3])
        if len({e.label for e in same}) > 1:
            report.add("error", "duplicate", f"the same sample has labels {sorted({e.label for e in same})}: {paths}")
        if len({e.split for e in same}) > 1:
            splits = "/".join(sorted({e.split for e in same}))
            report.add("error", "leakage", f"the same sample is in {splits}: {paths}")
        else:
            report.add("warning", "duplicate", f"{len(same)} copies of one sample in {same[0].split}: {paths}")


def _check_values(report: CheckReport, good: list[tuple[Entry, np.ndarray]]) -> None:
    silent, clipped = [], []
    for e, data in good:
        values = sample_values(data, e.format)
        if not np.all(np.isfinite(values)):
            report.add("error", "nan", f"{e.path} has {int(np.sum(~np.isfinite(values)))} NaN or infinite values")
            continue
        if e.format == "wav":
            rms = float(np.sqrt(np.mean(np.square(values, dtype=np.float64)))) if values.size else 0.0
            if 20 * np.log10(max(rms, 1e-12)) < SILENT_DBFS:
                silent.append(e.path)
            if np.mean((data >= 32767) | (data <= -32768)) >= CLIPPED_FRACTION:
                clipped.append(e.path)
        elif len(values) > 1 and np.all(np.ptp(values, axis=0) == 0):
            silent.append(e.path)  # a sensor that never moved: unplugged, or a flat line
    if silent:
        report.add("warning", "silence", f"{len(silent)} sample(s) are silent or flat, e.g. {silent[0]}")
    if clipped:
        report.add(
            "warning", "clipping", f"{len(clipped)} sample(s) clip (>= 1% of values at full scale), e.g. {clipped[0]}"
        )


def _check_shapes_and_rates(report: CheckReport, good: list[tuple[Entry, np.ndarray]]) -> None:
    shapes = Counter(data.shape for _, data in good)
    if len(shapes) > 1:
        shown = ", ".join(f"{n} x {s}" for s, n in shapes.most_common(4))
        report.add("error", "shape", f"samples have {len(shapes)} shapes ({shown}): segment them into equal windows")
    rates: dict[str, Counter] = defaultdict(Counter)
    for e, _ in good:
        if e.sample_rate:
            rates[e.sensor][e.sample_rate] += 1
    for sensor, seen in rates.items():
        if len(seen) > 1:
            shown = ", ".join(f"{n} at {r:g} Hz" for r, n in seen.most_common(4))
            report.add("error", "sample-rate", f"{sensor or 'samples'} recorded at {len(seen)} rates: {shown}")


def _check_bias(report: CheckReport, good: list[tuple[Entry, np.ndarray]]) -> None:
    devices: dict[str, set[str]] = defaultdict(set)
    for e, _ in good:
        devices[e.label].add(e.device)
    every = set().union(*devices.values()) if devices else set()
    if len(every) > 1:
        for label, used in sorted(devices.items()):
            others = set().union(*(d for lab, d in devices.items() if lab != label))
            if used and not used & others:
                report.add(
                    "warning", "bias", f"{label} was recorded only on {sorted(used)[:3]}, which no other class used"
                )
    levels: dict[str, list[float]] = defaultdict(list)
    for e, data in good:
        if e.format == "wav" and data.size:
            levels[e.label].append(float(np.sqrt(np.mean(np.square(data, dtype=np.float64)))) + 1e-9)
    medians = {label: float(np.median(v)) for label, v in levels.items()}
    for label, level in medians.items():
        rest = [m for lab, m in medians.items() if lab != label]
        if rest and 20 * np.log10(level / float(np.median(rest))) >= LOUDER_DB:
            db = 20 * np.log10(level / float(np.median(rest)))
            report.add("warning", "bias", f"{label} is {db:.0f} dB louder than the other classes: a loudness shortcut")


def fingerprint(values: np.ndarray) -> np.ndarray | None:
    """A sample as a unit vector of at most FINGERPRINT values, each channel's mean removed (None: flat)."""
    frames = values.reshape(len(values), -1).astype(np.float64)
    keep = max(1, FINGERPRINT // frames.shape[1])
    if len(frames) > keep:
        frames = frames[np.linspace(0, len(frames) - 1, keep).astype(np.int64)]
    frames = frames - frames.mean(axis=0)
    norm = float(np.linalg.norm(frames))
    return None if norm < 1e-9 else (frames / norm).ravel()


def _check_near_duplicates(report: CheckReport, good: list[tuple[Entry, np.ndarray]], near: float) -> None:
    prints = [(e, fingerprint(sample_values(d, e.format))) for e, d in good if np.all(np.isfinite(d))]
    prints = [(e, p) for e, p in prints if p is not None]
    if not prints or len({p.shape for _, p in prints}) != 1:
        return  # shapes differ: reported as an error already
    train = [(e, p) for e, p in prints if e.split == "train"]
    held = [(e, p) for e, p in prints if e.split != "train"]
    if len(train) * len(held) > MAX_PAIRS:
        report.add("warning", "near-duplicate", f"skipped: {len(train) * len(held):,} pairs are too many to compare")
        return
    if not train or not held:
        return
    base = np.stack([p for _, p in train])
    pairs = []
    for start in range(0, len(held), 256):
        chunk = held[start : start + 256]
        sims = np.stack([p for _, p in chunk]) @ base.T
        for i, j in zip(*np.nonzero(sims >= near)):
            if chunk[i][0].sha256 != train[j][0].sha256:  # exact copies are reported as leakage
                pairs.append((chunk[i][0].path, train[j][0].path, float(sims[i, j])))
    if pairs:
        a, b, sim = pairs[0]
        report.add(
            "warning",
            "near-duplicate",
            f"{len(pairs)} held-out sample(s) nearly equal a train sample, e.g. {a} ~ {b} (similarity {sim:.3f})",
        )
