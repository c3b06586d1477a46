"""The hostile corpus's fixture: each shard file (test_hostile.py, test_hostile_more.py) runs its own
selected cases once."""

from __future__ import annotations

import os

import pytest

from .harness import run_all
from .models import CORPUS_DIR


@pytest.fixture(scope="module")
def hostile_results(request, tmp_path_factory):
    """Run this file's selected cases (pytest -k/-m apply) on a pool of workers."""
    if not CORPUS_DIR.is_dir():
        message = f"the model corpus {CORPUS_DIR} is missing"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    selected = [
        item.callspec.params["case"]
        for item in request.session.items
        if getattr(item, "originalname", None) == "test_hostile_case" and item.module is request.module
    ]
    # Under pytest-xdist the other worker keeps the second core busy: one case at a time here.
    workers = 1 if os.environ.get("PYTEST_XDIST_WORKER") else 2
    return run_all(selected, tmp_path_factory.mktemp("hostile"), workers=workers)
