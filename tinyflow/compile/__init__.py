"""The compiled ("aot") runtime: int8 .tflite models to standalone C, bit-exact with TFLite Micro.

    from tinyflow.compile import compile_model, memory_report
    c = compile_model(open("kws.tflite", "rb").read(), name="kws")
    c.sources            # {"kws.c": "..."}; c.write("out/") writes them
    c.kernel_sources()   # firmware/kernels/*.c paths to build with firmware/include on the path
    c.plan               # MemoryPlan: offsets, arena_bytes, lower_bound, strategy
    memory_report(model_bytes)   # MemoryReport: planned RAM, flash, TFLM arena, lower bound

See docs/compiled-runtime.md.
"""

from tinyflow.compile.compiler import CompiledModel, compile_model

__all__ = ["CompiledModel", "compile_model", "memory_report", "MemoryReport"]


def __getattr__(name):  # the report imports the TFLM glue lazily
    if name in ("memory_report", "MemoryReport"):
        from tinyflow.compile import report

        return getattr(report, name)
    raise AttributeError(name)
