"""The four MLPerf Tiny benchmarks: the ids the runner knows and each one's I/O conventions.

What the runner sends (`wire`) is what its dataset files hold: KWS int8 features as the model
takes them, IC and VWW uint8 pixels (the device subtracts 128), AD float32 values (the device
quantizes them and answers one score, the reconstruction error). The runner's own scripts
(benchmark/runner/tests_*.yaml) give the iteration counts reproduced here.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from tinyflow.errors import UsageError


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: runner id, task, what its dataset files hold, and the runner's scripts."""

    id: str
    task: str  # the runner's test name (tests_*.yaml)
    wire: str  # the dataset files' element type: int8 | uint8 | float32
    performance_warmups: int  # the runner's `infer N W` in performance mode (W)
    performance_iterations: int  # ... and N, which a submitter raises until a window lasts 10 s
    anomaly: bool = False  # one score per input (AD), labels normal (0) / anomalous (1)


BENCHMARKS = {
    "kws01": Benchmark("kws01", "keyword_spotting", "int8", 10, 70),
    "ic01": Benchmark("ic01", "image_classification", "uint8", 5, 20),
    "vww01": Benchmark("vww01", "person_detection", "uint8", 5, 20),
    "ad01": Benchmark("ad01", "anomoly_detection", "float32", 10, 1500, anomaly=True),  # sic: the runner's name
}
# The runner's rules for a performance run: windows of at least this much device time, and this many.
MIN_WINDOW_SECONDS = 10.0
PERFORMANCE_WINDOWS = 5


def benchmark(name: str) -> Benchmark:
    """The benchmark of a runner id.

    Raises:
        UsageError: an unknown id (listing the valid ones).
    """
    if name not in BENCHMARKS:
        raise UsageError(f"Unknown MLPerf Tiny benchmark {name!r}", f"Use one of: {', '.join(BENCHMARKS)}.")
    return BENCHMARKS[name]


def target_url(target: str, bench: Benchmark) -> str:
    """`target` with the EEMBC protocol and the benchmark set (sim://host and sim://qemu-m4);
    other targets (a board running an EEMBC build) are returned as they are."""
    if not target.startswith("sim://") or target.startswith("sim://tflm"):
        return target
    query = urlsplit(target).query
    if any(key in ("protocol", "benchmark") for key, _ in parse_qsl(query, keep_blank_values=True)):
        raise UsageError(
            f"{target} sets the protocol or benchmark itself", "Drop them from the target: --benchmark sets both."
        )
    sep = "&" if "?" in target else "?"
    return f"{target}{sep}protocol=eembc&benchmark={bench.id}"
