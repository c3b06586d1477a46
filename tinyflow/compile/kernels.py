"""Which source implements each kernel on a core: the portable C or the core's variant.

One place for the choice, used by every build of compiled models: the emulated boards and every
output format of tinyflow.export (the `c` folder with --board, PlatformIO projects, the Cortex-M4
flash measurement).
As TFLM picks optimized kernels by directory (kernels/cmsis_nn/conv.cc replaces kernels/conv.cc),
firmware/kernels/<variant>/<op>.c replaces firmware/kernels/<op>.c: same function, same
parameters, bit-identical outputs (tests/compile/test_conv_*, tests/targets/test_sim_qemu.py).
"""

from __future__ import annotations

from pathlib import Path

# Cores whose instruction set runs a variant folder's kernels. The cortex_m4 kernels use the
# DSP extension (SMLAD, SXTAB16) of ARMv7E-M (Cortex-M4, M7), which ARMv8-M Mainline (M33, where
# the part has it) and ARMv8.1-M (M55) keep; M0/M0+ and M3 lack it and get the portable C.
VARIANT_CORES = {
    "cortex_m4": frozenset({"cortex-m4", "cortex-m4f", "cortex-m7", "cortex-m7f", "cortex-m33", "cortex-m55"})
}
# The preprocessor test for a variant in generated projects, whose `native` env builds the same
# sources for the host: the compiler, not the generator, then picks the variant.
VARIANT_GUARDS = {"cortex_m4": "defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP"}


def variant_for(core: str, dsp: bool) -> str | None:
    """The kernel variant folder for a board's core (None: the portable kernels)."""
    if not dsp:
        return None
    return next((name for name, cores in VARIANT_CORES.items() if core.lower() in cores), None)


def _kernels_dir() -> Path:
    from tinyflow.resources import firmware_dir

    return firmware_dir() / "kernels"


def kernel_sources(kernels: list[str], variant: str | None) -> list[Path]:
    """The .c file of each kernel: the variant's where it has one, else the portable one."""
    root = _kernels_dir()
    out = []
    for name in kernels:
        special = root / variant / f"{name}.c" if variant else None
        out.append(special if special is not None and special.exists() else root / f"{name}.c")
    return out


def project_kernel_files(kernels: list[str], variant: str | None) -> dict[str, Path | str]:
    """Kernel sources for a generated project: {path under src/kernels/: file to copy, or text}.

    A kernel without a variant is the portable file. A kernel with one becomes a dispatcher
    `<op>.c` that includes `portable/<op>.inc` or `<variant>/<op>.inc` by the variant's
    preprocessor guard, so the board env builds the variant and the host `native` env the
    portable C from the same project (.inc files are not compiled on their own). The variant's
    private headers sit beside its .inc files, where its quoted #includes find them.
    """
    root = _kernels_dir()
    files: dict[str, Path | str] = {}
    for name in kernels:
        portable = root / f"{name}.c"
        special = root / variant / f"{name}.c" if variant else None
        if special is None or not special.exists():
            files[f"{name}.c"] = portable
            continue
        files[f"portable/{name}.inc"] = portable
        files[f"{variant}/{name}.inc"] = special
        files[f"{name}.c"] = (
            f"/* {name}: the {variant} variant where the core has it, else the portable C. */\n"
            f'#if {VARIANT_GUARDS[variant]}\n#include "{variant}/{name}.inc"\n'
            f'#else\n#include "portable/{name}.inc"\n#endif\n'
        )
    if variant and any(k.startswith(f"{variant}/") for k in files):
        for header in sorted((root / variant).glob("*.h")):
            files[f"{variant}/{header.name}"] = header
    return files
