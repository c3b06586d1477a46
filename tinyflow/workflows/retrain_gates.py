"""The gates a retrained candidate passes before it replaces the deployed model (`tinyflow retrain`).

- golden: its accuracy on the golden test set, on the simulated target, is at most `max_drop`
  below the deployed model's (both measured here, the same way);
- agreement: its outputs on that target are identical to the TFLite Micro reference (rate 1.0);
- latency: its median latency there is within the budget (default 1.5x the deployed model's,
  measured in the same run: a simulator's times are only comparable with each other);
- fits: `firmware generate` accepts it for the board and runtime (flash and RAM, and ops and
  quantizations the board's runtime runs correctly).
"""

from __future__ import annotations

from pathlib import Path

from tinyflow.errors import DataError

LATENCY_FACTOR = 1.5  # the default budget over the deployed model's p50


def run_gates(
    deployed, candidate, *, golden: str, new: str, target: str, board: str, max_drop: float, budget_ms,
    runtime: str = "tflm", class_names: tuple[str, ...] = (),
):  # fmt: skip
    """([gate dict], before, after): each gate {name, passed, measured, limit, detail}; before/after
    hold the deployed and candidate models' accuracy and latency on the golden and new data."""

    def measure(model, data, split):
        return _eval(model, data, target, split, class_names)

    before, after = {"golden": measure(deployed, golden, "test")}, {"golden": measure(candidate, golden, "test")}
    before["new"], after["new"] = measure(deployed, new, "all"), measure(candidate, new, "all")
    floor = before["golden"]["accuracy"] - max_drop
    p50 = after["golden"]["p50_us"]
    limit_us = budget_ms * 1000 if budget_ms else LATENCY_FACTOR * before["golden"]["p50_us"]
    fit = _fit(candidate, board, runtime)
    gates = [
        _gate("golden", after["golden"]["accuracy"] >= floor - 1e-9, after["golden"]["accuracy"], floor,
              f"golden accuracy {after['golden']['accuracy']:.1%} vs deployed {before['golden']['accuracy']:.1%} "
              f"(at most {max_drop:.1%} lower)"),
        _gate("agreement", after["golden"]["exact_match_rate"] == 1.0, after["golden"]["exact_match_rate"], 1.0,
              f"{after['golden']['exact_match_rate']:.1%} of outputs identical to the TFLM reference on {target}"),
        _gate("latency", p50 <= limit_us, p50, limit_us, f"median {p50:.1f} us on {target}, budget {limit_us:.1f} us"),
        _gate("fits", fit[0], fit[1], board, f"{fit[1]} on {board} ({runtime})"),
    ]  # fmt: skip
    return gates, before, after


def _gate(name: str, passed: bool, measured, limit, detail: str) -> dict:
    return {"name": name, "passed": bool(passed), "measured": measured, "limit": limit, "detail": detail}


def _eval(model, data: str, target: str, split: str, class_names: tuple[str, ...]) -> dict:
    """Accuracy, agreement and median latency of `model` on `data` on `target` (tinyflow eval);
    labels matched to the model's classes by name (a store of new samples may lack some classes)."""
    from tinyflow.workflows.config import EvalConfig
    from tinyflow.workflows.evaluate import evaluate

    config = EvalConfig(str(model), dataset=data, target=target, split=split, class_names=tuple(class_names))
    report = evaluate(config)
    accuracy = report.metrics.get("accuracy")
    if accuracy is None:
        raise DataError(f"{data} gave no accuracy for {Path(model).name}", "Retrain gates need labelled classes.")
    return {
        "accuracy": float(accuracy),
        "samples": report.samples,
        "exact_match_rate": float(report.agreement.get("exact_match_rate", 0.0)),
        "p50_us": float(report.latency.get("p50_us", float("inf"))),
    }


def _fit(model, board: str, runtime: str) -> tuple[bool, str]:
    """(fits, verdict): the project `firmware generate` would write, planned without writing it."""
    from tinyflow.errors import BoardError, ModelError
    from tinyflow.export.platformio.project import plan_project

    try:
        fit = plan_project(str(model), board, runtime, mode="app").fit
    except (BoardError, ModelError) as exc:
        return False, exc.message[:300]
    return fit.fits, fit.verdict


def write_firmware(model, board: str, runtime: str, out_dir: Path) -> dict:
    """The candidate's PlatformIO application project (firmware generate --mode app)."""
    from tinyflow.export.platformio import generate_project

    report = generate_project(str(model), board, runtime, out_dir, mode="app")
    return {"directory": str(out_dir), "board": board, "runtime": runtime, "fit": report.plan.fit.verdict}
