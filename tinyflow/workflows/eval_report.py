"""The evaluation report: EvalReport (tables, report.json, report.html) and task metrics.

Pure: built from the device's raw outputs and the dataset; no I/O except EvalReport.write().
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyflow import metrics
from tinyflow.escaping import terminal_text
from tinyflow.report import fmt_latency, to_json
from tinyflow.workflows.eval_data import EvalData

MAX_MATRIX_CLASSES = 1024  # ImageNet's 1,001 fit; a hostile 100k-value output would need 80 GB

# Thresholds a user can set (eval --min-accuracy ...): name -> (label, how to read the measured
# value from a report, True when the value must be at least the limit, else at most).
THRESHOLDS = {
    "min_accuracy": ("Accuracy", lambda r: r.metrics.get("accuracy"), True),
    "min_agreement": ("Outputs identical to the TFLM reference", lambda r: r.agreement.get("exact_match_rate"), True),
    "max_latency_ms": ("Latency p99 (ms)", lambda r: _ms(r.latency.get("p99_us")), False),
}


def _ms(us: float | None) -> float | None:
    return None if us is None else us / 1e3


def _utc_now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@dataclass
class EvalReport:
    """One model evaluated on one target (to_dict() is report.json, str() the tables)."""

    model: str
    model_sha256: str
    target: str
    dataset: str
    task: str
    samples: int
    metrics: dict = field(default_factory=dict)
    agreement: dict = field(default_factory=dict)
    latency: dict = field(default_factory=dict)
    link: dict = field(default_factory=dict)
    device: dict = field(default_factory=dict)
    class_names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)  # THRESHOLDS name -> limit, set by the user
    generated: str = field(default_factory=_utc_now)
    outputs: list[list[np.ndarray]] = field(default_factory=list, repr=False)  # per sample, raw
    reference: list[list[np.ndarray]] = field(default_factory=list, repr=False)
    # Behind a front end: the device's features against the host's (exact_match_rate, mismatched, ...).
    feature_agreement: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        from tinyflow import __version__

        out = {k: v for k, v in self.__dict__.items() if k not in ("outputs", "reference")}
        out["tinyflow_version"] = __version__
        out["checks"] = self.checks()
        return out

    def checks(self) -> list[dict]:
        """Each threshold the user set, with the measured value and whether it passed.

        A value the evaluation did not measure (accuracy of a regression model) fails: a gate
        nobody can check must not pass silently."""
        out = []
        for name, limit in self.thresholds.items():
            label, read, at_least = THRESHOLDS[name]
            value = read(self)
            passed = value is not None and (value >= limit if at_least else value <= limit)
            shown = (lambda v: f"{100 * v:.1f}%") if name.startswith("min_") else (lambda v: f"{v:,.3f}")
            out.append(
                {
                    "name": name,
                    "label": label,
                    "limit": limit,
                    "value": value,
                    "passed": passed,
                    "limit_text": f"{'>=' if at_least else '<='} {shown(limit)}",
                    "value_text": "not measured" if value is None else shown(value),
                }
            )
        return out

    def failed_checks(self) -> list[str]:
        """One phrase per failed threshold: 'Accuracy 80.0% (limit >= 90.0%)'."""
        return [f"{c['label']} {c['value_text']} (limit {c['limit_text']})" for c in self.checks() if not c["passed"]]

    def write(self, directory: Path) -> tuple[Path, Path]:
        """Write DIR/report.json and the self-contained DIR/report.html."""
        from tinyflow.outputs import atomic_write, make_dir, writing
        from tinyflow.workflows.report_html import render

        directory = make_dir(directory)
        data = self.to_dict()
        with writing(directory):  # atomic: an interrupted write leaves the previous report, not half of one
            atomic_write(directory / "report.json", (to_json(data) + "\n").encode())
            atomic_write(directory / "report.html", render(data).encode())
        return directory / "report.json", directory / "report.html"

    def __str__(self) -> str:
        show = terminal_text  # file names and the target URL are untrusted text
        task = f" ({self.task})" if self.task not in ("", "none") else ""  # random:N has no task
        lines = [
            f"Evaluation of {show(self.model)} on {show(self.target)}: {self.samples} samples of {show(self.dataset)}{task}"
        ]
        if self.thresholds:
            failed = self.failed_checks()
            lines.append("FAIL: " + "; ".join(failed) if failed else "PASS: every threshold is met")
        rows = [(k, v) for k, v in self.metrics.items() if isinstance(v, (int, float))]
        a = self.agreement
        rows += [
            ("reference", a.get("reference")),
            ("agreement exact match", a.get("exact_match_rate")),
            ("agreement top-1", a.get("top1_agreement")),
            ("agreement max |diff|", a.get("max_abs_diff")),
        ]
        fa = self.feature_agreement
        if fa:
            rows += [
                (f"feature agreement ({fa.get('frontend')})", fa.get("exact_match_rate")),
                ("feature max |diff|", fa.get("max_abs_diff")),
            ]
        lat = self.latency
        if lat.get("samples"):
            rows += [
                ("latency p50 / p90 / p99", fmt_latency(lat["p50_us"], lat["p90_us"], lat["p99_us"])),
                ("throughput", f"{lat.get('throughput_per_s', 0):.1f} samples/s (host wall time)"),
            ]
        link = self.link
        rows += [
            ("samples lost", link.get("lost")),
            ("samples duplicated", link.get("duplicated")),
            (
                "retries / resyncs / resets",
                f"{link.get('retries', 0)} / {link.get('resyncs', 0)} / {link.get('resets', 0)}",
            ),
        ]
        if link.get("resumed"):
            rows.append(("resumed from journal", f"{link['resumed']} samples"))
        if link.get("journal_damaged"):
            rows.append(("journal lines damaged", f"{link['journal_damaged']} (their samples measured again)"))
        stats = self.device.get("stats") or {}
        if stats.get("arena_used"):
            rows.append(
                (
                    "arena used",
                    f"{stats['arena_used']:,} B of {self.device.get('arena_bytes', 0):,} B"
                    f" on {self.device.get('board_id', '?')} ({self.device.get('runtime', '?')})",
                )
            )
        width = max(len(k) for k, _ in rows)
        lines += [f"  {k:<{width}}  {_fmt(v)}" for k, v in rows]
        cm = self.metrics.get("confusion")
        if cm and len(cm) <= 16:
            lines += ["", "confusion matrix (rows: true, columns: predicted)", *_matrix(cm, self.class_names)]
        if lat.get("basis"):
            lines.append(f"note: latency {lat['basis']}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def task_metrics(data: EvalData, index: list[int], outputs: list[list[np.ndarray]], out_specs, notes: list) -> dict:
    """Metrics of the dataset's task from the device's (dequantized) first output."""
    if data.task == "none" or data.labels is None or not outputs:
        return {}
    y = np.asarray(data.labels)[index]
    first = np.stack([out_specs[0].dequantize(o[0]).ravel() for o in outputs])
    if data.task == "classification":
        if first.shape[1] == 1:  # one sigmoid unit: class 1 above 0.5
            pred = (first[:, 0] > 0.5).astype(np.int64)
            notes.append("binary classifier: one output unit, predicted class 1 when it exceeds 0.5")
        else:
            pred = first.argmax(axis=1)
        classes = max(len(data.class_names), int(y.max(initial=0)) + 1, first.shape[1])
        if classes > MAX_MATRIX_CLASSES:  # a classes x classes matrix would not fit in memory
            notes.append(
                f"{classes:,} classes: only accuracy is reported (per-class metrics and the confusion "
                f"matrix stop at {MAX_MATRIX_CLASSES:,} classes)"
            )
            return {"accuracy": metrics.accuracy(y, pred)}
        return metrics.classification(y, pred, num_classes=classes)
    if data.task == "regression":
        targets = y.reshape(len(y), -1)
        if targets.shape[1] != first.shape[1]:
            from tinyflow.errors import DataError

            raise DataError(
                f"The dataset has {targets.shape[1]} regression targets per sample but the model's "
                f"first output has {first.shape[1]} values",
                "Evaluate the model on its own dataset.",
            )
        return metrics.regression(targets, first)
    if data.task == "anomaly":
        feats = data.features[index] if data.features is not None else None
        if feats is not None and feats.shape[1] == first.shape[1]:
            scores = ((first - feats) ** 2).mean(axis=1)  # an autoencoder: reconstruction error
            notes.append("anomaly score: mean squared reconstruction error of the dequantized output")
        else:
            scores = first[:, -1]
            notes.append("anomaly score: the last value of the first output")
        auc = metrics.roc_auc(y, scores)
        return {"auc": auc} if auc is not None else {"auc": None, "note": "AUC needs both normal and anomalous labels"}
    return {}


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    return "n/a" if v is None else str(v)


# Class names in the terminal matrix are cut to this many characters (columns stay narrow).
NAME_WIDTH = 10


def _matrix(cm: list[list[int]], class_names: list[str] | None = None) -> list[str]:
    """The matrix as text rows, each row and column labelled with its class name (or id)."""
    names = [
        terminal_text(class_names[i] if class_names and i < len(class_names) else str(i))[:NAME_WIDTH]
        for i in range(len(cm))
    ]
    w = max(3, max(len(str(v)) for row in cm for v in row), max(len(n) for n in names))
    left = max(3, max(len(n) for n in names))
    head = " " * (left + 3) + " ".join(f"{n:>{w}}" for n in names)
    return [head] + [f"  {names[i]:>{left}} " + " ".join(f"{v:>{w}}" for v in row) for i, row in enumerate(cm)]
