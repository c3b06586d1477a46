"""memory_report: what the compiled runtime needs (RAM, flash) next to TFLite Micro's arena.

Pure: the plan's figures, plus the ones measured elsewhere and passed in. Flash is measured, not
estimated, by tinyflow.build.size (the generated C and its kernels compiled for Cortex-M4), and the
TFLM arena by tinyflow.runtimes.tflm; tinyflow.export.compiled_c.measure_memory composes all three.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from tinyflow.compile.compiler import CompiledModel, compile_model


@dataclass
class MemoryReport:
    """Memory of one model under the compiled runtime, and TFLM's arena for comparison."""

    model_name: str
    sha256: str
    ops: int
    activation_bytes: int  # the planned arena (one static buffer)
    lower_bound_bytes: int  # largest sum of live tensor bytes at any step of the op order
    weights_bytes: int  # constant arrays emitted (weights, biases, requant params)
    code_bytes: int | None  # Cortex-M4 .text of model + kernels (None: no arm toolchain)
    flash_bytes: int | None  # code + read-only data, Cortex-M4 (None: no arm toolchain)
    tflm_arena_bytes: int | None  # tinyflow.runtimes.tflm.measure_arena on this host (None: not measured)
    planner_strategy: str = ""
    # Everything the firmware needs in RAM beyond the stack: .data + .bss of the Cortex-M4 object of
    # model + kernels, i.e. the arena plus the kernels' static scratch (None: no arm toolchain).
    static_ram_bytes: int | None = None
    # Of weights_bytes: the kernel-variant tables only a core with the DSP extension compiles.
    dsp_weights_bytes: int = 0

    @property
    def scratch_bytes(self) -> int | None:
        """Static RAM beyond the arena (the kernels' scratch buffers and state), measured."""
        return None if self.static_ram_bytes is None else self.static_ram_bytes - self.arena_words_bytes

    @property
    def arena_words_bytes(self) -> int:
        return 4 * max((self.activation_bytes + 3) // 4, 1)  # the arena is int32 words (codegen)

    @property
    def total_ram_vs_tflm(self) -> float | None:
        if self.static_ram_bytes is None or not self.tflm_arena_bytes:
            return None
        return self.static_ram_bytes / self.tflm_arena_bytes

    @property
    def ram_vs_tflm(self) -> float | None:
        return self.activation_bytes / self.tflm_arena_bytes if self.tflm_arena_bytes else None

    @property
    def ram_vs_lower_bound(self) -> float | None:
        return self.activation_bytes / self.lower_bound_bytes if self.lower_bound_bytes else None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ram_vs_tflm"], d["ram_vs_lower_bound"] = self.ram_vs_tflm, self.ram_vs_lower_bound
        d["scratch_bytes"], d["total_ram_vs_tflm"] = self.scratch_bytes, self.total_ram_vs_tflm
        return d

    def __str__(self) -> str:
        def kib(n):
            return "n/a" if n is None else f"{n:,} B ({n / 1024:.1f} KiB)"

        def ratio(r):
            return "n/a" if r is None else f"{r:.2f}"

        rows = [
            ("model", f"{self.model_name} (sha256 {self.sha256[:12]}, {self.ops} ops)"),
            ("RAM total (Cortex-M4 static)", kib(self.static_ram_bytes)),
            ("  activations (planned arena)", kib(self.activation_bytes)),
            ("  kernel scratch + state", kib(self.scratch_bytes)),
            ("lower bound (live tensors)", kib(self.lower_bound_bytes)),
            ("TFLM arena (same model)", kib(self.tflm_arena_bytes)),
            ("RAM / TFLM arena", ratio(self.total_ram_vs_tflm)),
            ("activations / TFLM arena", ratio(self.ram_vs_tflm)),
            ("RAM / lower bound", ratio(self.ram_vs_lower_bound)),
            ("weights + params (flash)", kib(self.weights_bytes)),
            ("code (Cortex-M4 -O2)", kib(self.code_bytes)),
            ("flash total", kib(self.flash_bytes)),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def memory_report(
    model,
    name: str = "model",
    tflm_arena_bytes: int | None = None,
    code_bytes: int | None = None,
    flash_bytes: int | None = None,
    static_ram_bytes: int | None = None,
) -> MemoryReport:
    """Compile `model` (bytes, path or TfliteModel; a CompiledModel is used as is) and report its memory.

    Args:
        tflm_arena_bytes: TFLM's smallest arena for the same model, for the comparison; the caller
            measures it (tinyflow.runtimes.tflm.measure_arena), so compile/ needs no runtime.
        code_bytes, flash_bytes, static_ram_bytes: Cortex-M4 code, flash and static RAM (.data +
            .bss), measured by the caller (tinyflow.build.size.measure_flash), so compile/ runs no toolchain.
    """
    # Compiling a 25 MB model takes seconds: `tinyflow compile` passes what it compiled already.
    compiled = model if isinstance(model, CompiledModel) else compile_model(model, name=name)
    plan = compiled.plan
    return MemoryReport(
        model_name=name,
        sha256=compiled.model.sha256,
        ops=len(compiled.op_names),
        activation_bytes=plan.arena_bytes,
        lower_bound_bytes=plan.lower_bound,
        weights_bytes=compiled.const_bytes,
        code_bytes=code_bytes,
        flash_bytes=flash_bytes,
        tflm_arena_bytes=tflm_arena_bytes,
        planner_strategy=plan.strategy,
        static_ram_bytes=static_ram_bytes,
        dsp_weights_bytes=compiled.dsp_const_bytes,
    )
