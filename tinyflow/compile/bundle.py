"""Write a compiled model as a self-contained C folder: the generated file, the kernels it uses
and the headers they include, so `cc DIR/*.c DIR/kernels/*.c -IDIR/include` builds it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def write_bundle(compiled, directory: str | os.PathLike) -> list[Path]:
    """Write sources, kernels and headers under `directory`; returns the written paths."""
    from tinyflow.resources import firmware_dir

    from tinyflow.outputs import make_dir, writing

    out = make_dir(directory)
    with writing(out):
        return _copy_all(compiled, out)


def _copy_all(compiled, out: Path) -> list[Path]:
    from tinyflow.resources import firmware_dir

    written = compiled.write(out)
    (out / "kernels").mkdir(parents=True, exist_ok=True)
    for src in compiled.kernel_sources():
        written.append(Path(shutil.copyfile(src, out / "kernels" / src.name)))
    include = firmware_dir() / "include"
    for header in sorted((include / "tinyflow").rglob("*.h")):
        if header.parent.name == "kernels" and header.stem not in _headers_needed(compiled):
            continue
        dest = out / "include" / header.relative_to(include)
        dest.parent.mkdir(parents=True, exist_ok=True)
        written.append(Path(shutil.copyfile(header, dest)))
    return written


def _headers_needed(compiled) -> set[str]:
    # Kernel headers include common.h, shape.h and fixedpoint.h; shipping those three always is
    # simpler than parsing includes.
    return set(compiled.kernels) | {"common", "shape", "fixedpoint"}
