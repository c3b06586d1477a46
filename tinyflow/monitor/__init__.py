"""Field monitoring: the statistics a device keeps of what its model sees (firmware/src/monitor.c),
their host twin and reference profile, drift against it, and `tinyflow monitor` (docs/operations.md).

- profile.py: `Profile` (counts, sums, histograms), `<model>.monitor.json` (untrusted on read);
- reference.py: the same statistics from arrays (bit-exact with the device), the reference profile;
- drift.py: PSI and KS per feature, confidence drop, class-prior shift, thresholds, one verdict;
- run.py: polling, `--once`; exporters.py: Prometheus and MLflow; dashboard.py: the live page.
"""

from __future__ import annotations

from tinyflow.monitor.drift import DriftReport, Thresholds, compare
from tinyflow.monitor.profile import Profile, load_profile, save_profile
from tinyflow.monitor.reference import observe, reference_path, reference_profile, write_reference

__all__ = [
    "DriftReport",
    "Profile",
    "Thresholds",
    "compare",
    "load_profile",
    "observe",
    "reference_path",
    "reference_profile",
    "save_profile",
    "write_reference",
]
