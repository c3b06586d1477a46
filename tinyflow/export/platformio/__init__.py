"""The `platformio` format: PlatformIO firmware projects for real boards.

    from tinyflow.export.platformio import generate_project
    report = generate_project("kws.tflite", "nano33ble", "tflm", "fw/kws")   # FirmwareProjectReport
    print(report)            # fit, arena, files created/updated/kept

`plan_project` (pure, tinyflow.export.platformio.project) decides every file; `write_project`
(tinyflow.export.platformio.writer) writes them without clobbering user edits. Building, flashing and
sizing are in tinyflow.build.platformio.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tinyflow.export.platformio.project import RUNTIMES, ProjectPlan, plan_project
from tinyflow.export.platformio.writer import WriteResult, write_project
from tinyflow.report import table


@dataclass
class FirmwareProjectReport:
    """What `tinyflow firmware generate` made."""

    directory: Path
    plan: ProjectPlan
    written: WriteResult

    def to_dict(self) -> dict:
        p = self.plan
        return {
            "directory": str(self.directory),
            "board": p.board.id,
            "runtime": p.runtime,
            "mode": p.mode,
            "model": p.model_name,
            "arena_bytes": p.arena_bytes,
            "measured_arena_bytes": p.measured_arena_bytes,
            "fit": p.fit.to_dict(),
            "files": self.written.to_dict(),
        }

    def __str__(self) -> str:
        p, w = self.plan, self.written
        arena = f"{p.arena_bytes:,} B"
        if p.measured_arena_bytes is not None:
            arena += f" (measured {p.measured_arena_bytes:,} B + margin)"
        rows = [
            ["project", str(self.directory)],
            ["board", f"{p.board.id} ({p.board.name})"],
            ["runtime", p.runtime],
            ["mode", p.mode],
            ["model", p.model_name],
            ["arena" if p.runtime == "tflm" else "activations", arena],
            ["fit", p.fit.verdict],
        ]
        for kind in ("created", "updated", "unchanged", "kept", "removed", "yours"):
            items = getattr(w, kind)
            if items:
                rows.append(
                    [
                        kind,
                        f"{len(items)}"
                        + (": " + ", ".join(items) if kind in ("updated", "kept", "removed", "yours") else ""),
                    ]
                )
        text = table(["firmware project", ""], rows) + "\n" + p.fit.explain("flash") + "\n" + p.fit.explain("ram")
        if w.kept:
            text += "\nEdited files were kept; their new versions are beside them as *.tinyflow-new."
        if p.mode == "app":
            text += "\nApplication mode: your code goes in src/on_prediction.c (never regenerated)."
        return text


def generate_project(model, board, runtime: str, out_dir: str | os.PathLike, **options) -> FirmwareProjectReport:
    """Plan and write a project (options: name, protocol, measured_arena_bytes, mode; see plan_project)."""
    plan = plan_project(model, board, runtime, **options)
    written = write_project(plan.files, out_dir, plan.user_files)
    return FirmwareProjectReport(directory=Path(out_dir), plan=plan, written=written)


def write_platformio(
    model,
    out_dir: str | os.PathLike,
    *,
    board: str,
    runtime: str = "tflm",
    name: str | None = None,
    protocol: str = "native",
    arena_bytes: int | None = None,
    benchmark: str | None = None,
    mode: str = "link",
    max_ram: int | None = None,
) -> FirmwareProjectReport:
    """The `platformio` format's writer (tinyflow.export.FORMATS): generate_project with keywords."""
    return generate_project(
        model,
        board,
        runtime,
        out_dir,
        name=name,
        protocol=protocol,
        measured_arena_bytes=arena_bytes,
        benchmark=benchmark,
        mode=mode,
        max_ram=max_ram,
    )


__all__ = [
    "RUNTIMES",
    "FirmwareProjectReport",
    "ProjectPlan",
    "WriteResult",
    "generate_project",
    "plan_project",
    "write_platformio",
    "write_project",
]
