"""The compiled ("aot") runtime: int8 .tflite models to standalone C, bit-exact with TFLite Micro.

    from tinyflow.compile import compile_model, memory_report
    c = compile_model(open("kws.tflite", "rb").read(), name="kws")
    c.sources            # {"kws.c": "..."}; c.write("out/") writes them
    c.kernels            # kernel names; tinyflow.compile.kernels picks each one's source per core
    c.plan               # MemoryPlan: offsets, arena_bytes, lower_bound, strategy
    memory_report(c)     # MemoryReport: planned RAM, lower bound, weights (+ figures measured elsewhere)

C text is emitted through tinyflow.compile.cemit. Writing the folder, measuring flash and TFLM's
arena is the `c` output format's job (tinyflow.export.compiled_c). See docs/compiled-runtime.md.
"""

from tinyflow.compile.compiler import CompiledModel, compile_model
from tinyflow.compile.report import MemoryReport, memory_report

__all__ = ["CompiledModel", "compile_model", "memory_report", "MemoryReport"]
