"""Search: `tinyflow sweep` over architecture and compression settings for accuracy x latency x memory.

config.py reads CONFIG.toml (checked once), trial.py trains and measures one point through the
existing model/ and workflows/ steps, executor.py runs trials here or on Ray, run.py drives
Optuna's NSGA-II (resumable: OUT/study.journal), pareto.py writes the front (JSON and HTML).
Optuna and Ray are imported lazily, only in this package. docs/optimization.md#search.
"""

from __future__ import annotations

from tinyflow.search.config import SweepConfig, load_config, parse_config
from tinyflow.search.run import SweepReport, sweep

__all__ = ["SweepConfig", "SweepReport", "load_config", "parse_config", "sweep"]
