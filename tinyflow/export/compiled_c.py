"""The `c` format: an int8 .tflite as standalone C (the compiled runtime) in a self-contained folder.

    from tinyflow.export.compiled_c import write_compiled_c, measure_memory
    report = write_compiled_c("kws.tflite", "out/")     # CompileReport: files written + MemoryReport
    measure_memory(model_bytes)                         # MemoryReport with Cortex-M4 flash measured

The folder holds the generated `<name>.c`, the kernels it uses and the headers they include, so
`cc DIR/*.c DIR/kernels/*.c -IDIR/include` builds it. Kernel files come from
tinyflow.compile.kernels, as in generated projects: with a board whose core has a kernel variant
(Cortex-M4 DSP), `kernels/<op>.c` picks the variant or the portable C by the compiler's target.
Files go through tinyflow.outputs.write_outputs: atomically, recorded in DIR/.tinyflow/manifest.json,
and never over a file the user wrote or edited unless `force`; files an earlier compile wrote that
this one does not (another model name, a kernel no longer used) are removed unless edited since.
"""

from __future__ import annotations

import os
from pathlib import Path

from tinyflow.compile import CompiledModel, compile_model
from tinyflow.compile.kernels import project_kernel_files, variant_for
from tinyflow.compile.report import MemoryReport, memory_report

# Flash is measured on Cortex-M4 with its kernel variant: what nano33ble and sim://qemu-m4 run.
FLASH_CORE = ("cortex-m4", True)


class CompileReport:
    """What the `c` format (`tinyflow compile`) wrote and the memory it plans."""

    def __init__(self, written: list[Path], memory: MemoryReport, patches: list | None = None):
        self.written, self.memory = written, memory
        # Patch-based stages (--max-ram): first op, last op, band rows, extra calls, shifted bytes.
        self.patches = patches or []

    def to_dict(self) -> dict:
        return {"files": [str(p) for p in self.written], "memory": self.memory.to_dict(), "patches": self.patches}

    def __str__(self) -> str:
        head = f"wrote {self.written[0]} (+{len(self.written) - 1} kernel and header files)"
        for p in self.patches:
            head += (
                f"\npatch by patch: ops {p['first']}-{p['last']} in {p['band_rows']}-row bands "
                f"({p['extra_calls']} extra kernel calls, {p['shifted_bytes']:,} B of kept rows shifted)"
            )
            if p.get("input_ring"):  # tinyflow.compile.stream
                head += f"; the input streams row by row into a {p['input_ring']:,} B ring (tinyflow_model_input_rows)"
        return head + "\n" + str(self.memory)


def measure_memory(model, name: str = "model", tflm_arena_bytes: int | None = None, flash: bool = True) -> MemoryReport:
    """memory_report with the Cortex-M4 flash and static RAM measured (when arm-none-eabi-gcc is installed).

    Args:
        model: .tflite bytes, a path, a TfliteModel or a CompiledModel (used as is).
        tflm_arena_bytes: TFLM's arena for the same model (tinyflow.runtimes.tflm.measure_arena).
        flash: cross-compile to measure code and flash (False: both None).
    """
    from tinyflow.build.size import measure_flash

    compiled = model if isinstance(model, CompiledModel) else compile_model(model, name=name)
    size = None
    if flash:
        kernels = compiled.kernel_sources(variant_for(*FLASH_CORE))
        size = measure_flash(compiled.sources, kernels, compiled.name)
    return memory_report(
        compiled,
        name=name,
        tflm_arena_bytes=tflm_arena_bytes,
        code_bytes=size.code_bytes if size else None,
        flash_bytes=size.flash_bytes if size else None,
        static_ram_bytes=size.ram_bytes if size else None,
    )


def write_compiled_c(
    model,
    out_dir: str | os.PathLike,
    *,
    name: str | None = None,
    force: bool = False,
    reference: str = "wheel",
    board: str | None = None,
    tflm_arena: bool = True,
    namespace: bool = False,
    max_ram: int | None = None,
) -> CompileReport:
    """Compile `model` (a .tflite path or bytes) and write the folder; report its memory.

    Args:
        reference: whose FULLY_CONNECTED arithmetic to follow (tinyflow.compile.quant.REFERENCES).
        board: a board id whose core picks the kernel variants (default: the portable kernels).
        tflm_arena: also measure TFLM's arena for the same model, for the comparison.
        namespace: name the model.h functions <name>_model_* (in <name>_model.h), so several
            models link into one program; default tinyflow_model_*, the device loop's contract.
        max_ram: an activation arena budget in bytes, met by patch-based inference of the early
            layers (tinyflow.compile.patches); ModelError with the smallest reachable arena if it cannot be.

    Raises:
        ModelError: unreadable model or an op the compiled runtime cannot run. BoardError: unknown
        board. UsageError: the folder holds the user's files (unless `force`), or a symbolic link.
    """
    from tinyflow.boards import load_board
    from tinyflow.compile.context import board_table_flash
    from tinyflow.outputs import write_outputs
    from tinyflow.tflite import read_model_file

    data = bytes(model) if isinstance(model, (bytes, bytearray)) else read_model_file(model)
    name = name or (Path(model).stem if isinstance(model, (str, os.PathLike)) else "model")
    variant = _board_variant(board)
    # With --board the DSP tables take what that board's flash spares; without, the default budget.
    tables = None if board is None else board_table_flash(load_board(board))
    compiled = compile_model(
        data, name=name, reference=reference, namespace=namespace, max_ram=max_ram, table_flash=tables
    )
    if isinstance(model, (str, os.PathLike)) and not namespace:
        from tinyflow.export.frontend_tables import with_frontend
        from tinyflow.frontends import read_sidecar

        # The sidecar's front end: its plan and C join the folder (build firmware/src with
        # -DTINYFLOW_FRONTEND_KIND=<kind>, as compiled.defines says, to run it before the model).
        compiled = with_frontend(compiled, read_sidecar(model))
    # prune: a previous model name's .c (or a kernel no longer used) would be built with this one.
    written = write_outputs(bundle_files(compiled, variant), out_dir, force=force, exclusive=True, prune=True)
    arena = None
    if tflm_arena:
        from tinyflow.runtimes.tflm import measure_arena

        arena = measure_arena(data).arena_bytes
    patches = [
        {
            "first": st.first,
            "last": st.last,
            "band_rows": st.band_rows,
            "extra_calls": sch.extra_calls,
            "shifted_bytes": sch.shifted_bytes,
            "input_ring": compiled.stream_ring if st.first == 0 else 0,
        }
        for st, sch in zip(compiled.stages, compiled.schedules)
    ]
    return CompileReport(written, measure_memory(compiled, name=name, tflm_arena_bytes=arena), patches)


def _board_variant(board: str | None) -> str | None:
    if board is None:
        return None
    from tinyflow.boards import load_board

    b = load_board(board)
    return variant_for(b.core, b.dsp)


def bundle_files(compiled: CompiledModel, variant: str | None = None) -> dict[str, bytes]:
    """{relative path: bytes} of the whole folder, the generated model source first (pure apart
    from reading firmware/)."""
    from tinyflow.resources import firmware_dir

    files = {fname: text.encode() for fname, text in compiled.sources.items()}
    for rel, item in project_kernel_files(list(compiled.kernels), variant).items():
        files[f"kernels/{rel}"] = item.read_bytes() if isinstance(item, Path) else item.encode()
    include = firmware_dir() / "include"
    for header in sorted((include / "tinyflow").rglob("*.h")):
        if header.parent.name == "kernels" and header.stem not in _headers_needed(compiled):
            continue
        files[f"include/{header.relative_to(include).as_posix()}"] = header.read_bytes()
    return files


def _headers_needed(compiled: CompiledModel) -> set[str]:
    # Kernel headers include common.h, shape.h and fixedpoint.h; shipping those three always is
    # simpler than parsing includes.
    return set(compiled.kernels) | {"common", "shape", "fixedpoint"}
