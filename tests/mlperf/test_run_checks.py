"""run_benchmark refuses a bad target before it makes a dataset (tens of seconds of search)."""

from __future__ import annotations

import pytest

from tinyflow.errors import UsageError
from tinyflow.mlperf import run as run_module


@pytest.fixture
def no_dataset(monkeypatch):
    def fail(*_args, **_kw):
        raise AssertionError("a dataset was made before the target was checked")

    monkeypatch.setattr(run_module, "make_dataset", fail)
    monkeypatch.setattr(run_module, "read_dataset", fail)


@pytest.mark.parametrize(
    "target, mode",
    [("sim://nope", "accuracy"), ("sim://host?bord=x", "accuracy"), ("sim://tflm", "performance")],
)
def test_bad_target_is_refused_before_the_dataset(no_dataset, target, mode):
    with pytest.raises(UsageError):
        run_module.run_benchmark(b"not used", "kws01", target, mode)
