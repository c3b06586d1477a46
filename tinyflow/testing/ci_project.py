"""`tinyflow ci init`: the files that gate a user's project on a model's budgets in CI.

    files = ci_files("models/kws.tflite", board="nano33ble")   # relative path -> text
    write_outputs({k: v.encode() for k, v in files.items()}, project_dir, exclusive=False)

The test file holds every value (model, board, target, limits) as an editable constant; the
workflows only run pytest on it, so no untrusted text reaches YAML or shell. The model path and
the target URL are untrusted and enter the Python text only through escaping.py_literal.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinyflow.boards import load_board
from tinyflow.compile.cemit import generated_banner
from tinyflow.escaping import py_literal

COMMAND = "tinyflow ci init"

TEST_FILE = "tests/test_model_budgets.py"
GITHUB_FILE = ".github/workflows/tinyflow.yml"
GITLAB_FILE = ".gitlab-ci.tinyflow.yml"  # `include: local: .gitlab-ci.tinyflow.yml` from .gitlab-ci.yml
PYTEST = "python -m pytest tests/test_model_budgets.py -v"
# What a runner needs besides Python: a C compiler for sim://host, QEMU for instruction counts.
APT = "gcc qemu-system-arm gcc-arm-none-eabi libnewlib-arm-none-eabi"


@dataclass(frozen=True)
class CiSettings:
    """What the generated test checks; every limit lands in the test file as an editable constant."""

    model: str  # path relative to the project root
    board: str
    target: str = "sim://host"
    dataset: str = "random:20"  # agreement with the host reference needs no labels
    min_agreement: float = 1.0
    accuracy_dataset: str | None = None  # a labelled dataset: accuracy is gated only with one
    min_accuracy: float | None = None
    max_latency_ms: float | None = None


def ci_files(settings: CiSettings) -> dict[str, str]:
    """Relative path -> text of the test file and the two CI workflows.

    Raises:
        BoardError: an unknown board id.
    """
    return {
        TEST_FILE: test_file(settings),
        GITHUB_FILE: github_workflow(),
        GITLAB_FILE: gitlab_snippet(),
    }


def emulated_core(board_id: str) -> str | None:
    """The sim:// URL whose QEMU core runs `board_id`'s core, or None (no instruction counts)."""
    from tinyflow.workflows.boards_bench import emulator_for

    name = emulator_for(load_board(board_id).core)
    return f"sim://{name}" if name else None


def test_file(s: CiSettings) -> str:
    b = load_board(s.board)
    core = emulated_core(b.id)
    lines = [
        generated_banner(f"the model {s.model}", comment="#", command=COMMAND, editable=True),
        "# Run: python -m pytest tests/test_model_budgets.py  (the tinyflow pytest plugin supplies the fixtures;",
        "# --tinyflow-model/--tinyflow-board/--tinyflow-target override the constants below).",
        "import pytest",
        "",
        f"TINYFLOW_MODEL = {py_literal(s.model)}",
        f"TINYFLOW_BOARD = {py_literal(b.id)}",
        f"TINYFLOW_TARGET = {py_literal(s.target)}",
        "",
        f"RAM_LIMIT_BYTES = {b.usable_ram_bytes}  # usable RAM on {b.id}: {b.ram_bytes} minus {b.reserved_ram_bytes} reserved",
        f"FLASH_LIMIT_BYTES = {b.usable_flash_bytes}  # usable flash on {b.id}",
        f"AGREEMENT_DATASET = {py_literal(s.dataset)}",
        f"MIN_AGREEMENT = {float(s.min_agreement)!r}  # share of outputs identical to the TFLM reference",
        f"ACCURACY_DATASET = {py_literal(s.accuracy_dataset) if s.accuracy_dataset else None}",
        f"MIN_ACCURACY = {float(s.min_accuracy)!r}" if s.min_accuracy is not None else "MIN_ACCURACY = None",
        f"EMULATED_CORE = {py_literal(core + '?board=' + b.id) if core else None}  # instructions are counted here",
        f"MAX_LATENCY_MS = {float(s.max_latency_ms)!r}" if s.max_latency_ms is not None else "MAX_LATENCY_MS = None",
        "",
        "",
        "def test_fits_the_board(tinyflow_gate):",
        "    tinyflow_gate.assert_fits()",
        "",
        "",
        "def test_ram(tinyflow_gate):",
        "    tinyflow_gate.assert_ram(max_bytes=RAM_LIMIT_BYTES)",
        "",
        "",
        "def test_flash(tinyflow_gate):",
        "    tinyflow_gate.assert_flash(max_bytes=FLASH_LIMIT_BYTES)",
        "",
        "",
        "def test_agreement_with_reference(tinyflow_gate):",
        "    tinyflow_gate.assert_agreement(AGREEMENT_DATASET, min_agreement=MIN_AGREEMENT)",
        "",
        "",
        "def test_accuracy(tinyflow_gate):",
        "    if ACCURACY_DATASET is None or MIN_ACCURACY is None:",
        '        pytest.skip("set ACCURACY_DATASET and MIN_ACCURACY to gate accuracy")',
        "    tinyflow_gate.assert_accuracy(ACCURACY_DATASET, min_accuracy=MIN_ACCURACY)",
        "",
        "",
        "def test_latency_estimate(tinyflow_gate):",
        "    if EMULATED_CORE is None or MAX_LATENCY_MS is None:",
        '        pytest.skip("set MAX_LATENCY_MS (and EMULATED_CORE) to gate the latency estimate")',
        "    tinyflow_gate.assert_latency(MAX_LATENCY_MS, core=EMULATED_CORE)",
    ]
    return "\n".join(lines) + "\n"


def github_workflow() -> str:
    return f"""{generated_banner("the model budget gates", comment="#", command=COMMAND, editable=True)}
name: tinyflow
on: [push, pull_request]
jobs:
  model-budgets:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install tinyflow and the simulators' tools
        run: |
          sudo apt-get update && sudo apt-get install -y {APT}
          python -m pip install tinyflow
      - name: Model budgets
        run: {PYTEST}
"""


def gitlab_snippet() -> str:
    return f"""{generated_banner("the model budget gates", comment="#", command=COMMAND, editable=True)}
# Add to .gitlab-ci.yml:
#   include:
#     - local: {GITLAB_FILE}
model-budgets:
  image: python:3.11
  script:
    - apt-get update && apt-get install -y {APT}
    - python -m pip install tinyflow
    - {PYTEST}
"""
