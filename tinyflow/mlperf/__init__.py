"""MLPerf Tiny: the official runner's DUT protocol and its two modes, on tinyflow's targets.

- benchmarks: the four benchmarks (kws01, ic01, vww01, ad01) and their I/O conventions;
- dut: the host side of the EEMBC text protocol; reference: the same conventions on the TFLM
  reference kernels in Python;
- dataset: the runner's dataset folders (read, or made and labelled by the reference kernels);
- run: accuracy and performance modes, records shaped like the runner's results.json;
- serve: a simulated DUT on a pseudo-terminal for the official runner.
See docs/mlperf.md.
"""

from tinyflow.mlperf.benchmarks import BENCHMARKS, benchmark
from tinyflow.mlperf.run import MODES, MlperfReport, run_benchmark

__all__ = ["BENCHMARKS", "MODES", "MlperfReport", "benchmark", "run_benchmark"]
