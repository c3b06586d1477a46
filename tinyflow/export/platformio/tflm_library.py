"""What the TFLM library of generated projects can run, in one table, and the models it would get wrong.

Generated `--runtime tflm` projects link the library pinned in tinyflow.export.platformio.ini (every board
uses the same one; docs/tflm-library.md says why). An op without a kernel fails at link time, but
a quantization the library's kernels ignore gives wrong outputs with no error at all, so both are
refused at generation (tflm_glue, project) and listed by `tinyflow inspect`. Pure: model in, text out.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinyflow.errors import ModelError
from tinyflow.export.platformio.ini import TFLM_LIBRARY_COMMIT, TFLM_LIBRARY_NAME
from tinyflow.tflite import TfliteModel


@dataclass(frozen=True)
class TflmLibrary:
    """Known capabilities of one pinned TFLM library."""

    name: str
    version: str
    tflm_synced: str  # the tflite-micro date the library's TFLM was copied from
    per_channel_fully_connected: bool  # FULLY_CONNECTED honours one weight scale per output channel

    @property
    def label(self) -> str:
        return f"{self.name} {self.version[:7]} (TFLM of {self.tflm_synced})"


# tflite-micro gained per-channel FULLY_CONNECTED on 2024-09-27 (#2673, commit 47b5450; from
# 2024-05-28, #2602, it refused such models). The pinned export's TFLM is from 2023-02-27: its
# reference and CMSIS-NN FULLY_CONNECTED kernels read only the first weight scale and apply it to
# every channel, and no later export of the Arduino library exists (docs/tflm-library.md).
PINNED = TflmLibrary(
    name=TFLM_LIBRARY_NAME, version=TFLM_LIBRARY_COMMIT, tflm_synced="2023-02-27", per_channel_fully_connected=False
)


def library_for(board_id: str) -> TflmLibrary:  # noqa: ARG001 (one library for every board today)
    """The TFLM library a generated project for `board_id` links."""
    return PINNED


def incompatibilities(model: TfliteModel, library: TflmLibrary = PINNED) -> list[str]:
    """Why `library` would compute `model` wrongly, one sentence per op (empty: no known issue)."""
    issues = []
    for op in model.ops:
        if op.name != "FULLY_CONNECTED" or library.per_channel_fully_connected or len(op.inputs) < 2:
            continue
        weights = model.tensors[op.inputs[1]]
        if len(weights.scale) > 1:
            issues.append(
                f"FULLY_CONNECTED #{op.index} has per-channel weights ({len(weights.scale)} scales in "
                f"'{weights.name}'), which {library.label} ignores (it applies the first scale to every "
                "channel)"
            )
    return issues


def check_model(model: TfliteModel, board_id: str) -> None:
    """Refuse a model the board's TFLM library would run with wrong results.

    Raises:
        ModelError: naming the ops and why.
    """
    issues = incompatibilities(model, library_for(board_id))
    if issues:
        raise ModelError(
            f"{'; '.join(issues)}: its outputs on {board_id} would be wrong",
            "Use --runtime aot (the compiled runtime handles per-channel weights), or quantize the "
            "dense layers per tensor (TFLiteConverter._experimental_disable_per_channel_quantization_"
            "for_dense_layers = True).",
        )
