"""CI gates: budget assertions (`Gate`), the pytest plugin (plugin.py, entry point `pytest11`), the
files `tinyflow ci init` writes (ci_project.py) and the RFC 2217 board server (board_server.py).
docs/ci.md.

Names load on first use, so `-p tinyflow.testing.plugin` at pytest start imports nothing heavy.
"""

from __future__ import annotations

import importlib

_API = {
    "Gate": "tinyflow.testing.budgets:Gate",
    "BudgetExceeded": "tinyflow.testing.budgets:BudgetExceeded",
}

__all__ = list(_API)


def __getattr__(name: str):
    target = _API.get(name)
    if target is None:
        raise AttributeError(f"module 'tinyflow.testing' has no attribute {name!r}")
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)
