"""The hostile-input corpus: every case must end with one clean `Error:` line (or an exit 0 the
case allows), no traceback, no hang, RSS under 2 GiB, and no file touched outside its output
folder. The checks are in harness.py; the cases in corpus.py and corpus_env.py.

All selected cases run once, two at a time, in a session fixture; each test item then reports
its own case, with the command line that reproduces it. `python -m tests.hostile` prints totals.
"""

from __future__ import annotations

import os

import pytest

from .corpus import all_cases
from .harness import run_all
from .models import CORPUS_DIR

CASES = all_cases()
pytestmark = [pytest.mark.hostile, pytest.mark.slow]


def _param(case):
    return pytest.param(case, id=case.id, marks=[getattr(pytest.mark, m) for m in case.marks])


@pytest.fixture(scope="session")
def hostile_results(request, tmp_path_factory):
    """Run every selected case (pytest -k/-m apply) on a pool of two workers."""
    if not CORPUS_DIR.is_dir():
        message = f"the model corpus {CORPUS_DIR} is missing"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    selected = [
        item.callspec.params["case"]
        for item in request.session.items
        if getattr(item, "originalname", None) == "test_hostile_case"
    ]
    return run_all(selected, tmp_path_factory.mktemp("hostile"), workers=2)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_hostile_case(case, hostile_results):
    result = hostile_results[case.id]
    if result.status == "failed":
        pytest.fail(result.describe(), pytrace=False)


def test_corpus_is_large_and_unique():
    assert len(CASES) >= 200
    assert len({c.id for c in CASES}) == len(CASES)
