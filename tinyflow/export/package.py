"""The sources every package format ships: one model's runtime as src/ + include/, named by --name.

    from tinyflow.export.package import package_sources, write_package
    p = package_sources("kws.tflite", name="kws", runtime="aot")
    p.files            # {"src/kws.c": b"...", "include/kws_model.h": b"...", "src/kernels/conv_2d.c": ...}
    p.api              # "kws_model": the model.h functions are kws_model_init(), kws_model_invoke(), ...

The build formats (cmake, esp-idf, zephyr, arduino-library) add their build files around these.
aot: the compiled C (tinyflow.compile, namespaced so several models link into one program) and
its kernels from tinyflow.compile.kernels with the Cortex-M4 variant behind its preprocessor guard:
one package builds the DSP kernels for M4/M7/M33-with-DSP and the portable C everywhere else.
tflm: the C array and TFLM glue of generated PlatformIO projects (tinyflow.export.platformio),
which keep the tinyflow_model_* names: one TFLM model per program.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from tinyflow import __version__
from tinyflow.compile.cemit import generated_banner
from tinyflow.errors import UsageError
from tinyflow.escaping import COMMENT_LIMIT, c_identifier

RUNTIMES = ("aot", "tflm")
# Every package builds the kernels through the dispatcher of this variant: the compiler's target
# (its __ARM_FEATURE_DSP) picks the DSP code or the portable C, not the generator.
KERNEL_VARIANT = "cortex_m4"
# Headers the tflm glue includes from firmware/include/tinyflow.
_TFLM_HEADERS = ("hal.h", "model.h")


@dataclass
class PackageSources:
    """One model's runtime sources, relative to a package root."""

    name: str  # a C identifier (tinyflow.escaping.c_identifier): safe in file, target and symbol names
    runtime: str
    api: str  # prefix of the model.h functions: "<name>_model" (aot) or "tinyflow_model" (tflm)
    header: str  # the header a user includes: "<name>_model.h"
    arena_bytes: int
    origin: str  # where the model came from, for banners
    files: dict[str, bytes] = field(default_factory=dict)
    frontend: str | None = None  # the sidecar's front end: <name>_pipeline.h runs it before the model

    def sources(self, under: str = "src/") -> list[str]:
        """The files a build compiles (.c/.cpp under `under`; the kernels' .inc files are included, not compiled)."""
        return sorted(p for p in self.files if p.startswith(under) and p.endswith((".c", ".cc", ".cpp")))


def package_sources(
    model,
    name: str | None = None,
    runtime: str = "aot",
    pinned_tflm: bool = False,
    shared_arena: str | None = None,
    max_ram: int | None = None,
) -> PackageSources:
    """The src/ and include/ files of `model` (a .tflite path or bytes) for `runtime`.

    Args:
        pinned_tflm: tflm: the package links the TFLM library PlatformIO projects pin (Arduino),
            so models it would compute wrongly are refused (tinyflow.export.platformio.tflm_library).
        shared_arena: aot: the application's arena of this name instead of the model's own
            (docs/deploy.md); models sharing one must run one at a time.
        max_ram: aot: an activation arena budget met by patch-based inference (compile_model's max_ram).

    Raises:
        ModelError: unreadable model, or an op the runtime cannot run. UsageError: unknown runtime.
    """
    from tinyflow.tflite import read_model, read_model_file

    if runtime not in RUNTIMES:
        raise UsageError(f"Unknown runtime {runtime!r}", f"Use one of: {', '.join(RUNTIMES)}.")
    if shared_arena is not None and runtime != "aot":
        raise UsageError("--shared-arena needs --runtime aot", "TFLM keeps its own arena; drop --shared-arena.")
    if max_ram is not None and runtime != "aot":
        raise UsageError("--max-ram applies to the compiled runtime only", "Add --runtime aot, or drop --max-ram.")
    is_path = isinstance(model, (str, os.PathLike))
    data = read_model_file(model) if is_path else bytes(model)
    name = c_identifier(name or (Path(model).stem if is_path else "model"))
    origin = (Path(model).name if is_path else "model bytes")[:COMMENT_LIMIT]
    m = read_model(data)
    if runtime == "aot":
        sources = _aot(m, name, origin, shared_arena, max_ram)
    else:
        sources = _tflm(m, name, origin, pinned_tflm)
    if is_path:
        from tinyflow.frontends import read_sidecar

        config = read_sidecar(model)
        if config is not None:
            sources.files.update(frontend_package_files(config, m.tensors[m.inputs[0]], sources))
            sources.frontend = config.name
    return sources


# The functions pipeline.c defines and the model.h ones it calls: a package renames both after its
# model (#define before including pipeline.c), so several models with front ends link into one program.
PIPELINE_FUNCTIONS = (
    "init", "info", "input", "output", "invoke", "op_name", "arena_used",
    "window_frames", "channels", "sample_rate", "kind", "slide", "input_changed",
)  # fmt: skip
_MODEL_FUNCTIONS = ("init", "info", "input", "output", "invoke", "op_name", "arena_used")
_PIPELINE_TYPES = {
    "init": "int {}(void)", "info": "const tinyflow_model_info_t *{}(void)", "input": "uint8_t *{}(int index)",
    "output": "const uint8_t *{}(int index)", "invoke": "int {}(uint32_t *op_ticks)",
    "op_name": "const char *{}(int index)", "arena_used": "uint32_t {}(void)", "window_frames": "uint32_t {}(void)",
    "channels": "uint8_t {}(void)", "sample_rate": "uint32_t {}(void)", "kind": "uint8_t {}(void)",
    "slide": "void {}(uint32_t frames)", "input_changed": "void {}(void)",
}  # fmt: skip


def frontend_package_files(config, model_input, s: PackageSources) -> dict[str, bytes]:
    """What a package adds for the model's front end (the sidecar): the plan, pipeline.c under the
    package's names (<name>_pipeline_*() in <name>_pipeline.h: raw window in, model outputs and
    features out), the front end C (src/frontends/: identical in every package, so archives link
    each object once) and the headers. The one helper every package format uses."""
    from tinyflow.export.frontend_tables import frontend_files, pipeline_defines, render_pipeline_plan
    from tinyflow.resources import firmware_dir

    fw, n, banner = firmware_dir(), s.name, generated_banner(s.origin, command="tinyflow deploy")
    files = {f"src/{n}_frontend_plan.c": render_pipeline_plan(config, model_input, symbol=f"{n}_pipeline_plan")}
    for fname, text in frontend_files(config, model_input).items():
        if fname.startswith("tinyflow_frontend_"):
            files[f"src/frontends/{fname[len('tinyflow_frontend_') :]}"] = text
    files["src/frontends/tinyflow_pipeline.inc"] = (fw / "src" / "pipeline.c").read_text()
    renames = [f"#define tinyflow_pipeline_{f} {n}_pipeline_{f}" for f in PIPELINE_FUNCTIONS]
    renames.append(f"#define tinyflow_pipeline_plan {n}_pipeline_plan")
    if s.api != "tinyflow_model":
        renames += [f"#define tinyflow_model_{f} {s.api}_{f}" for f in _MODEL_FUNCTIONS]
    kind = "".join(f"#define {k} {v}\n" for k, v in pipeline_defines(config).items())
    files[f"src/{n}_pipeline.c"] = (
        f"{banner}\n/* firmware/src/pipeline.c for the model {n}: its front end before {s.api}_invoke(). */\n"
        + kind
        + "\n".join(renames)
        + '\n#include "frontends/tinyflow_pipeline.inc"\n'
    )
    guard = f"TINYFLOW_PIPELINE_{n}_H"
    decls = "\n".join(_PIPELINE_TYPES[f].format(f"{n}_pipeline_{f}") + ";" for f in PIPELINE_FUNCTIONS)
    files[f"include/{n}_pipeline.h"] = (
        f"{banner}\n#ifndef {guard}\n#define {guard}\n"
        f"/* The model {n} behind its front end ({config.name}): tinyflow/pipeline.h under this model's\n"
        f" * names. Input 0 is the raw int16 window; the last output is the features as the model got them. */\n"
        f'#include "tinyflow/pipeline.h"\n#ifdef __cplusplus\nextern "C" {{\n#endif\n{decls}\n'
        f"#ifdef __cplusplus\n}}\n#endif\n#endif /* {guard} */\n"
    )
    include = fw / "include" / "tinyflow"
    for header in ("config.h", "model.h", "hal.h", "pipeline.h", "frontend.h", f"frontend_{config.name}.h"):
        files[f"include/tinyflow/{header}"] = (include / header).read_text()
    return {rel: text.encode() for rel, text in files.items()}


def _aot(m, name: str, origin: str, shared_arena: str | None, max_ram: int | None = None) -> PackageSources:
    from tinyflow.compile import compile_model
    from tinyflow.export.compiled_c import bundle_files

    # stream_input="off": a package's example and its users fill <name>_model_input(0) whole.
    compiled = compile_model(
        m, name=name, namespace=True, shared_arena=shared_arena, max_ram=max_ram, stream_input="off"
    )
    api = f"{name}_model"
    files: dict[str, bytes] = {}
    for rel, data in bundle_files(compiled, KERNEL_VARIANT).items():
        top = "include" if rel.endswith(".h") and "/" not in rel else "src"
        files[rel if rel.startswith("include/") else f"{top}/{rel}"] = data
    files[f"src/{name}_hal_defaults.c"] = _weak_ticks(origin).encode()
    return PackageSources(name, "aot", api, f"{api}.h", int(compiled.plan.arena_bytes), origin, files)


def _tflm(m, name: str, origin: str, pinned_tflm: bool) -> PackageSources:
    from tinyflow.boards import arena_with_margin
    from tinyflow.export.platformio import tflm_glue, tflm_library
    from tinyflow.resources import firmware_dir
    from tinyflow.runtimes.tflm import measure_arena

    tflm_glue.resolver_methods(m)  # refuse ops TFLM has no kernel for before measuring
    if pinned_tflm:
        tflm_library.check_model(m, tflm_library.PINNED.name)
    arena = arena_with_margin(measure_arena(m).arena_bytes)
    fw = firmware_dir()
    files = {
        "src/model_tflm.cpp": (fw / "tflm/model_tflm.cpp").read_bytes(),
        "include/tinyflow_tflm_model.h": tflm_glue.model_header(m, name, arena, origin, __version__).encode(),
    }
    for fname, text in tflm_glue.model_data_files(m, origin).items():
        files[f"{'include' if fname.endswith('.h') else 'src'}/{fname}"] = text.encode()
    for header in _TFLM_HEADERS:
        files[f"include/tinyflow/{header}"] = (fw / "include/tinyflow" / header).read_bytes()
    files[f"include/{name}_model.h"] = _tflm_header(name, origin).encode()
    files[f"src/{name}_hal_defaults.c"] = _weak_ticks(origin).encode()
    return PackageSources(name, "tflm", "tinyflow_model", f"{name}_model.h", arena, origin, files)


def _weak_ticks(origin: str) -> str:
    # model.c and the TFLM glue read tinyflow_hal_ticks() only to time ops (op_ticks != NULL).
    # A program without a tinyflow port still links; a port's strong definition replaces this.
    return (
        generated_banner(origin, command="tinyflow deploy") + '\n#include <stdint.h>\n#include "tinyflow/hal.h"\n\n'
        "/* Weak: a tinyflow port (or the application) supplies the real clock; 0 means op times are not measured. */\n"
        "__attribute__((weak)) uint32_t tinyflow_hal_ticks(void) { return 0u; }\n"
    )


def _tflm_header(name: str, origin: str) -> str:
    guard = f"TINYFLOW_PACKAGE_{name}_H"
    return (
        generated_banner(origin, command="tinyflow deploy") + f"\n#ifndef {guard}\n#define {guard}\n"
        "/* The TFLM runtime keeps the tinyflow_model_* names of tinyflow/model.h: one TFLM model per\n"
        " * program (--runtime aot namespaces them). Link the TFLM library beside this package. */\n"
        f'#include "tinyflow/model.h"\n#endif /* {guard} */\n'
    )


@dataclass
class PackageReport:
    """What a package format wrote and how to build it."""

    format: str
    sources: PackageSources
    written: list[Path]
    build: str  # one line: how to use the result
    out_dir: Path

    def to_dict(self) -> dict:
        s = self.sources
        return {
            "format": self.format,
            "name": s.name,
            "runtime": s.runtime,
            "api": s.api,
            "header": s.header,
            "arena_bytes": s.arena_bytes,
            "frontend": s.frontend,
            "out_dir": str(self.out_dir),
            "files": [str(p) for p in self.written],
            "build": self.build,
        }

    def __str__(self) -> str:
        s = self.sources
        return (
            f"wrote the {self.format} package of {s.name} ({len(self.written)} file"
            f"{'' if len(self.written) == 1 else 's'}) into {self.out_dir}\n"
            f"  model {s.name}: runtime {s.runtime}, functions {s.api}_*() in {s.header}, arena {s.arena_bytes:,} B\n"
            + (
                f"  front end {s.frontend}: {s.name}_pipeline_*() in {s.name}_pipeline.h (raw in)\n"
                if s.frontend
                else ""
            )
            + f"  {self.build}"
        )


def write_package(
    fmt: str,
    sources: PackageSources,
    extra: dict[str, str | bytes],
    out_dir,
    force: bool,
    build: str,
    with_sources: bool = True,
) -> PackageReport:
    """Write the format's own files (`extra`) and, `with_sources`, the sources into `out_dir`
    (tinyflow.outputs rules: atomic, recorded, never over the user's files unless `force`)."""
    from tinyflow.outputs import write_outputs

    files = {rel: (v.encode() if isinstance(v, str) else v) for rel, v in extra.items()}
    if with_sources:
        files.update(sources.files)
    written = write_outputs(files, out_dir, force=force, exclusive=True)
    return PackageReport(fmt, sources, written, build, Path(out_dir))
