"""Board-fit verdicts of an int8 model on every board, as tags of its registered model version.

The figures are `tinyflow inspect`'s: the TFLM arena measured once (cached by model hash), then
boards.fit_model per board, the check `firmware generate` acts on.
"""

from __future__ import annotations

from pathlib import Path

from tinyflow.errors import TinyflowError


def board_fits(model: Path) -> dict[str, str]:
    """{"fit.<board>": verdict} for every catalogued board with a TFLM size estimate.

    A model TFLM cannot run gets one tag saying why instead ("fit": "not measured: ...").
    """
    from tinyflow.boards import fit_model, list_boards
    from tinyflow.inspection import inspect_model

    try:
        report = inspect_model(model, runtime="tflm")
    except TinyflowError as exc:
        return {"fit": f"not measured: {exc.message}"[:500]}
    flash, ram = len(report.analysis.model.data), report.arena.arena_bytes
    tags = {}
    for board in list_boards():
        if "tflm" not in board.runtimes:
            continue
        fit = fit_model(board, "tflm", model_flash=flash, ram=ram)
        tags[f"fit.{board.id}"] = fit.verdict
        tags[f"fit.{board.id}.ram_used"] = f"{fit.ram_needed / fit.ram_usable:.3f}"
        tags[f"fit.{board.id}.flash_used"] = f"{fit.flash_needed / fit.flash_usable:.3f}"
    return tags
