"""Write a compiled model as a self-contained C folder: the generated file, the kernels it uses
and the headers they include, so `cc DIR/*.c DIR/kernels/*.c -IDIR/include` builds it.

Files go through tinyflow.outputs.write_outputs: atomically, recorded in DIR/.tinyflow/manifest.json,
and never over a file the user wrote or edited unless `force`.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_bundle(compiled, directory: str | os.PathLike, force: bool = False) -> list[Path]:
    """Write sources, kernels and headers under `directory`; returns the written paths, the
    generated model source first.

    Raises:
        UsageError: the folder is not empty and not written by tinyflow, or a file to write was
            written or edited by the user (unless `force`); a path goes through a symbolic link.
    """
    from tinyflow.outputs import write_outputs

    return write_outputs(bundle_files(compiled), directory, force=force, exclusive=True)


def bundle_files(compiled) -> dict[str, bytes]:
    """{relative path: bytes} of the whole folder (pure apart from reading firmware/)."""
    from tinyflow.resources import firmware_dir

    files = {fname: text.encode() for fname, text in compiled.sources.items()}
    for src in compiled.kernel_sources():
        files[f"kernels/{src.name}"] = src.read_bytes()
    include = firmware_dir() / "include"
    for header in sorted((include / "tinyflow").rglob("*.h")):
        if header.parent.name == "kernels" and header.stem not in _headers_needed(compiled):
            continue
        files[f"include/{header.relative_to(include).as_posix()}"] = header.read_bytes()
    return files


def _headers_needed(compiled) -> set[str]:
    # Kernel headers include common.h, shape.h and fixedpoint.h; shipping those three always is
    # simpler than parsing includes.
    return set(compiled.kernels) | {"common", "shape", "fixedpoint"}
