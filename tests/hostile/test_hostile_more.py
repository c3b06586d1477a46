"""The second shard of the hostile-input corpus (see test_hostile.py): a file of its own, so that
the two workers of `./run test` each run half of the corpus."""

from __future__ import annotations

import pytest

from .test_hostile import check, param, shard

pytestmark = [pytest.mark.hostile, pytest.mark.slow]


@pytest.mark.parametrize("case", [param(c) for c in shard(1)])
def test_hostile_case(case, hostile_results):
    check(case, hostile_results)
