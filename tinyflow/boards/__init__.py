"""Boards from boards/*.toml (schema in docs/boards.md) and the check of a model against a board.

    from tinyflow.boards import load_board, list_boards, fit_model
    b = load_board("nano33ble")
    fit = fit_model(b, "tflm", model_flash=len(model_bytes), ram=measured_arena_bytes)
    fit.fits, fit.ram_headroom; print(fit); fit.raise_if_not_fit()

catalog.py loads and lists the board files; fit.py holds `fit_model`, THE fit check of a model on
a board (inspect, firmware generate, sim://tflm and profile all call it), and `check_fit`, its
arithmetic.
"""

from __future__ import annotations

from tinyflow.boards.catalog import Board, RuntimeEstimate, boards_dir, list_boards, load_board
from tinyflow.boards.fit import (
    ARENA_MARGIN_FRACTION,
    ARENA_MARGIN_MIN_BYTES,
    TIGHT,
    FitReport,
    arena_with_margin,
    check_fit,
    fit_model,
)

__all__ = [
    "ARENA_MARGIN_FRACTION",
    "ARENA_MARGIN_MIN_BYTES",
    "TIGHT",
    "Board",
    "FitReport",
    "RuntimeEstimate",
    "arena_with_margin",
    "boards_dir",
    "check_fit",
    "fit_model",
    "list_boards",
    "load_board",
]
