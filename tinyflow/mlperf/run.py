"""`tinyflow mlperf run`: the runner's accuracy and performance modes, natively.

Accuracy: every file of the dataset (AD: every window) is loaded and run once (`infer 1 0`).
Performance: the runner's definition: 5 windows, each one file loaded and run N times after W
warm-ups, N large enough that a window lasts at least 10 s of device time (the device's own
m-lap-us clock; on sim://qemu-m4 that is the estimated board time from the deterministic
instruction count and the board clock); the score is the median of the windows' inferences/s.
Records have the shape of the runner's results.json.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tinyflow.errors import LinkError, ModelError, UsageError
from tinyflow.mlperf.benchmarks import MIN_WINDOW_SECONDS, PERFORMANCE_WINDOWS, Benchmark, benchmark, target_url
from tinyflow.mlperf.dataset import Entry, check_inputs, make_dataset, read_dataset
from tinyflow.mlperf.scoring import summarize

MODES = ("accuracy", "performance")
MAX_ITERATIONS = 1_000_000  # the firmware's TINYFLOW_EEMBC_MAX_RUNS
# A window may take this much longer on the wall clock than on the device clock (an emulator is
# slower than the board it estimates) before the wait gives up, plus a fixed margin.
WALL_FACTOR, WALL_MARGIN_S = 20.0, 60.0
PROBE_SECONDS = 0.5  # the calibration run lasts at least this long (one inference is noisy)
WINDOW_MARGIN = 1.15  # windows aim at 11.5 s so that a faster stretch still gives >= 10 s
WINDOW_ATTEMPTS = 3  # a short window is run again at most this often


@dataclass
class MlperfReport:
    """One run: the runner-shaped records and the summary the runner prints."""

    benchmark: str
    target: str
    mode: str
    device: str = ""
    records: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The runner's summary lines (results.txt)."""
        s = self.summary
        if self.mode == "accuracy":
            auc = "n/a" if s.get("auc") is None else f"{s['auc']:.3f}"
            return [f"ulp-mlperf: Top 1% = {s['top1']:2.1f}", f"ulp-mlperf: AUC = {auc}"]
        out = [
            f"Performance results for window {i + 1}: {w['iterations']} inferences in "
            f"{w['elapsed_time'] / 1e6:.3f} s, {w['throughput']:.3f} inf./sec."
            for i, w in enumerate(r["infer"] for r in self.records)
        ]
        return [*out, f"ulp-mlperf: Median throughput is {s['median_throughput']:>10.3f} inf./sec."]

    def to_json(self) -> list[dict]:
        """The records, as the runner's results.json holds them."""
        return self.records


def run_benchmark(
    model: bytes,
    benchmark_id: str,
    target: str,
    mode: str,
    dataset=None,
    *,
    board: str | None = None,
    per_class: int = 2,
    seed: int = 0,
) -> MlperfReport:
    """Run `model` as MLPerf Tiny benchmark `benchmark_id` on `target` in `mode`.

    Args:
        dataset: a runner dataset folder; None makes one labelled by the reference kernels
            (tinyflow.mlperf.dataset.make_dataset with `per_class` and `seed`).
        target: sim://host, sim://qemu-m4[?board=..] (built with ?protocol=eembc&benchmark=),
            a serial device running an EEMBC build, or sim://tflm (the reference kernels in
            Python; accuracy only).
    Raises:
        UsageError: an unknown mode or benchmark, or performance on sim://tflm.
        LinkError: the DUT answers for another benchmark, refuses a command, or stops answering.
        ModelError: the DUT was built from another model.
    """
    bench = benchmark(benchmark_id)
    if mode not in MODES:
        raise UsageError(f"Unknown mode {mode!r}", f"Use one of: {', '.join(MODES)}.")
    _check_target(target, bench, mode)  # before the dataset: making one takes tens of seconds
    entries = read_dataset(dataset) if dataset else make_dataset(model, bench, per_class=per_class, seed=seed)
    _check_entries(model, bench, entries)
    report = MlperfReport(bench.id, target, mode)
    with _open(model, bench, target, mode, board) as dut:
        report.device = dut.name()
        answered = dut.model()
        if answered != bench.id:
            raise LinkError(
                f"The DUT answers for {answered!r}, not {bench.id!r}", f"Build it with ?benchmark={bench.id}."
            )
        if not target.startswith("sim://tflm"):  # the reference kernels run `model` itself
            from tinyflow.mlperf.dut import check_model

            check_model(dut, model)
        if mode == "accuracy":
            report.records = accuracy_records(dut, bench, entries)
            report.summary = summarize(report.records)
        else:
            report.records = performance_records(dut, bench, entries)
            tps = sorted(r["infer"]["throughput"] for r in report.records)
            report.summary = {"median_throughput": tps[len(tps) // 2], "windows": len(tps)}
    return report


def accuracy_records(dut, bench: Benchmark, entries: list[Entry]) -> list[dict]:
    """One record per loaded window: `infer 1 0` on each."""
    records = []
    for e in entries:
        windows = e.windows()
        for w in windows:
            dut.load(w)
            reply = dut.infer(1, 0)
            records.append({**_row(e, bench, len(windows)), "infer": _infer_dict(reply), "mode": "a"})
    return records


def performance_records(dut, bench: Benchmark, entries: list[Entry]) -> list[dict]:
    """Five windows of >= 10 s device time, each on the next file (AD: its first window)."""
    dut.load(entries[0].windows()[0])
    per_us = probe_microseconds(dut)
    iterations = window_iterations(per_us, bench.performance_iterations)
    records = []
    for i in range(PERFORMANCE_WINDOWS):
        e = entries[i % len(entries)]
        dut.load(e.windows()[0])
        for _ in range(WINDOW_ATTEMPTS):
            budget = WALL_FACTOR * iterations * per_us / 1e6 + WALL_MARGIN_S
            reply = dut.infer(iterations, bench.performance_warmups, timeout=budget)
            if reply.elapsed_us <= 0:
                raise LinkError(
                    f"The DUT's clock did not advance over {iterations} inferences "
                    f"({reply.start_us} -> {reply.end_us} us)",
                    "Its timer is not running or wrapped: check the port's tinyflow_hal_ticks64().",
                )
            if reply.elapsed_us >= MIN_WINDOW_SECONDS * 1e6 or iterations >= MAX_ITERATIONS:
                break
            # A window that ended short (a busy host sped up) is run again, longer.
            per_us = reply.elapsed_us / iterations
            iterations = window_iterations(per_us, iterations + 1)
        info = _infer_dict(reply)
        info["throughput"] = iterations / (reply.elapsed_us / 1e6)
        records.append({**_row(e, bench, 1), "infer": info, "mode": "p"})
    return records


def probe_microseconds(dut) -> float:
    """Device microseconds per inference, from runs of growing length until one lasts PROBE_SECONDS."""
    n = 1
    while True:
        reply = dut.infer(n, 1)
        if reply.elapsed_us >= PROBE_SECONDS * 1e6 or n >= MAX_ITERATIONS:
            return max(reply.elapsed_us, 1) / n
        n = min(n * 10, MAX_ITERATIONS)


def window_iterations(per_inference_us: float, runner_default: int) -> int:
    """Inferences per window: the runner's count, raised until the window lasts >= 10 s (with
    WINDOW_MARGIN for a device clock that runs a little faster during the window)."""
    if per_inference_us <= 0:
        return MAX_ITERATIONS
    needed = math.ceil(MIN_WINDOW_SECONDS * WINDOW_MARGIN * 1e6 / per_inference_us)
    return max(runner_default, min(needed, MAX_ITERATIONS))


def _row(e: Entry, bench: Benchmark, windows: int) -> dict:
    return {**e.row(), "total_length": windows if bench.anomaly else None}


def _infer_dict(reply) -> dict:
    return {
        "results": reply.results,
        "start_time": reply.start_us,
        "end_time": reply.end_us,
        "elapsed_time": reply.elapsed_us,
        "total_inferences": 1,
        "iterations": reply.iterations,
        "warmups": reply.warmups,
    }


def _check_target(target: str, bench: Benchmark, mode: str) -> None:
    """Refuse a bad sim:// URL, or performance on the reference kernels, before any work."""
    if target.startswith("sim://tflm") and mode != "accuracy":
        raise UsageError(
            "sim://tflm runs the reference kernels in Python: it has no device clock",
            "Measure performance on sim://host or sim://qemu-m4.",
        )
    url = target_url(target, bench)
    if url.startswith("sim:"):
        from tinyflow.targets import parse_sim_url

        parse_sim_url(target)  # errors name the URL as the user typed it
        parse_sim_url(url)


def _check_entries(model: bytes, bench: Benchmark, entries: list[Entry]) -> None:
    """Refuse files the model cannot take (size) or score (class) before any device work."""
    from tinyflow.tflite import read_model

    m = read_model(model)
    if len(m.inputs) != 1 or len(m.outputs) < 1:
        raise ModelError(f"An MLPerf Tiny model has one input, not {len(m.inputs)}", "Check the model file.")
    spec, out = m.tensors[m.inputs[0]], m.tensors[m.outputs[0]]
    elements = math.prod(int(d) for d in spec.shape)
    classes = None if bench.anomaly else math.prod(int(d) for d in out.shape)
    check_inputs(entries, elements * (4 if bench.wire == "float32" else 1), classes)


class _open:
    """The DUT for a target, closed afterwards: EembcDut over a port, or the Python reference."""

    def __init__(self, model: bytes, bench: Benchmark, target: str, mode: str, board: str | None):
        self._port = None
        if target.startswith("sim://tflm"):
            from tinyflow.mlperf.reference import ReferenceDut

            self.dut = ReferenceDut(model, bench)
            return
        from tinyflow.mlperf.dut import EembcDut
        from tinyflow.workflows.device import open_device

        self._port = open_device(target_url(target, bench), model=model, board=board, timeout=0.5)
        self.dut = EembcDut(self._port)

    def __enter__(self):
        return self.dut

    def __exit__(self, *exc):
        if self._port is not None:
            self._port.close()
        else:
            self.dut.close()
