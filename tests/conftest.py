"""Shared test fixtures: the third-party model corpus and tool checks.

Under CI (CI=true) a missing corpus or tool is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = ROOT.parent / "shared" / "models"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

CORPUS = [
    "tflm/hello_world_int8.tflite",
    "tflm/micro_speech_quantized.tflite",
    "tflm/keyword_scrambled_8bit.tflite",
    "tflm/person_detect.tflite",
    "mlperf_tiny/kws_ref_model.tflite",
    "mlperf_tiny/vww_96_int8.tflite",
    "mlperf_tiny/pretrainedResnet_quant.tflite",
    "mlperf_tiny/ad01_int8.tflite",
]


# The longest files, longest first. `./run test` gives two xdist workers whole files in collection
# order (--dist loadfile --no-loadscope-reorder), so these start at once and the many short files
# fill in around them instead of trailing behind the last long one.
LONGEST_FIRST = (
    "tests/hostile/test_hostile.py",
    "tests/hostile/test_hostile_more.py",
    "tests/workflows/test_demo_task.py",
    "tests/test_readme.py",
    "tests/test_notebooks.py",
    "tests/search/test_sweep_cluster.py",
    "tests/workflows/test_demo.py",
    "tests/workflows/test_retrain_loop.py",
    "tests/tracking/test_tracking_server.py",
    "tests/model/test_noise.py",
    "tests/search/test_sweep_run.py",
    "tests/test_fuzz.py",
)


def pytest_collection_modifyitems(session, config, items):
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable: files keep their order


def pytest_addoption(parser):
    parser.addoption(
        "--target",
        action="append",
        default=[],
        help="run the conformance suite against this target URL too (e.g. /dev/ttyACM0)",
    )


def missing(what: str) -> None:
    """Skip, or fail under CI, because `what` is not available."""
    if IN_CI:
        pytest.fail(f"{what} is missing under CI; the project's set-up (./run setup) must install it")
    pytest.skip(f"{what} is missing")


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(f"tool '{name}'")
    return path


def corpus_path(rel: str) -> Path:
    path = CORPUS_DIR / rel
    if not path.exists():
        missing(f"corpus model {path}")
    return path


@pytest.fixture(params=CORPUS, ids=lambda p: Path(p).stem)
def corpus_model(request) -> Path:
    """Each model of ../shared/models in turn."""
    return corpus_path(request.param)


@pytest.fixture(scope="session")
def tf():
    """TensorFlow, or a skip (a failure under CI)."""
    try:
        import tensorflow
    except ImportError:
        missing("TensorFlow (pip install -e .[train])")
    return tensorflow
