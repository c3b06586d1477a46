"""The hostile-input corpus: every case must end with one clean `Error:` line (or an exit 0 the
case allows), no traceback, no hang, RSS under 2 GiB, and no file touched outside its output
folder. The checks are in harness.py; the cases in corpus.py and corpus_env.py.

The cases are dealt into two shards, this file and test_hostile_more.py, so that `./run test`'s
two workers (whole files each) share the corpus. Each file runs its selected cases once, in a
module fixture (conftest.py); each test item then reports its own case, with the command line that reproduces
it. `python -m tests.hostile` runs them all and prints totals.
"""

from __future__ import annotations

import pytest

from .corpus import all_cases

CASES = all_cases()
SHARDS = 2
pytestmark = [pytest.mark.hostile, pytest.mark.slow]


def shard(index: int) -> list:
    """Every SHARDS-th case from `index`: the families interleave, so the shards cost about the same."""
    return CASES[index::SHARDS]


def param(case):
    return pytest.param(case, id=case.id, marks=[getattr(pytest.mark, m) for m in case.marks])


def check(case, results) -> None:
    result = results[case.id]
    if result.status == "failed":
        pytest.fail(result.describe(), pytrace=False)


@pytest.mark.parametrize("case", [param(c) for c in shard(0)])
def test_hostile_case(case, hostile_results):
    check(case, hostile_results)


def test_corpus_is_large_and_unique():
    assert len(CASES) >= 200
    assert len({c.id for c in CASES}) == len(CASES)
    assert sorted(c.id for n in range(SHARDS) for c in shard(n)) == sorted(c.id for c in CASES)
