"""The tinyflow pytest plugin (entry point `pytest11`): a model's budgets as tests.

    pytest --tinyflow-model model.tflite --tinyflow-board nano33ble [--tinyflow-target sim://host]

    def test_ram(tinyflow_gate):
        tinyflow_gate.assert_ram(max_bytes=64_000)

Fixtures: `tinyflow_model` (a Path), `tinyflow_board`, `tinyflow_target` (a URL) and
`tinyflow_gate` (a tinyflow.testing.Gate over the three; one per combination per session, so
every test reads the same measurements). Each value comes from the command line, else from the
test module's TINYFLOW_MODEL / TINYFLOW_BOARD / TINYFLOW_TARGET, else the ini option of the same
name, else the default. Nothing heavy is imported when pytest starts: this module imports only
the standard library and pytest.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# option suffix -> (module constant / ini name, default, help)
OPTIONS = {
    "model": ("tinyflow_model", None, "the int8 .tflite the budget tests check"),
    "board": ("tinyflow_board", None, "board id (tinyflow boards list) whose RAM and flash are the default limits"),
    "target": (
        "tinyflow_target",
        "sim://host",
        "where eval runs: sim://host, sim://tflm, a device or rfc2217://host:port",
    ),
}


def pytest_addoption(parser):
    group = parser.getgroup("tinyflow", "tinyflow model budgets")
    for suffix, (name, default, help_) in OPTIONS.items():
        group.addoption(
            f"--tinyflow-{suffix}", dest=name, default=None, metavar="VALUE", help=f"{help_} (default {default})"
        )
        parser.addini(name, help=help_, default=None)


def _setting(request, suffix: str):
    """Command line, then the test module's constant, then the ini file, then the default."""
    name, default, _ = OPTIONS[suffix]
    for value in (
        request.config.getoption(name),
        getattr(request.module, name.upper(), None) if request.module is not None else None,
        request.config.getini(name),
    ):
        if value:
            return str(value)
    return default


@pytest.fixture
def tinyflow_target(request) -> str:
    """The target URL eval runs on (--tinyflow-target, default sim://host)."""
    return _setting(request, "target")


@pytest.fixture
def tinyflow_board(request) -> str | None:
    """The board id (--tinyflow-board), or None."""
    return _setting(request, "board")


@pytest.fixture
def tinyflow_model(request) -> Path:
    """The model (--tinyflow-model); a relative path is taken from pytest's rootdir."""
    value = _setting(request, "model")
    if value is None:
        pytest.fail(
            "No model to check: pass --tinyflow-model PATH or set TINYFLOW_MODEL in the test module", pytrace=False
        )
    path = Path(value)
    path = path if path.is_absolute() else Path(request.config.rootpath) / path
    if not path.is_file():
        pytest.fail(f"Model {path} does not exist: check --tinyflow-model or TINYFLOW_MODEL", pytrace=False)
    return path


@pytest.fixture(scope="session")
def _tinyflow_gates() -> dict:
    return {}


@pytest.fixture
def tinyflow_gate(tinyflow_model, tinyflow_board, tinyflow_target, _tinyflow_gates):
    """A Gate for the model, board and target; shared by every test that asks for the same three."""
    from tinyflow.testing.budgets import Gate

    key = (str(tinyflow_model), tinyflow_board, tinyflow_target)
    if key not in _tinyflow_gates:
        _tinyflow_gates[key] = Gate(tinyflow_model, board=tinyflow_board, target=tinyflow_target)
    return _tinyflow_gates[key]
