"""The compiled model run on the host: tinyflow.compile's C built as a shared library, loaded with ctypes.

The library exports model.h's functions; `tinyflow_hal_ticks` comes from a small host stub that
counts nanoseconds (CLOCK_MONOTONIC), so per-op ticks are host time. `HostModel` is the raw
library (tests, benchmarks); `CompiledRuntime` is the same behind the runtimes interface. Each
invoke starts from zero state (the library is built without TINYFLOW_KEEP_STATE).
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np

from tinyflow.build.cc import CBuild, build_executable, stage_sources
from tinyflow.errors import ModelError
from tinyflow.runtimes import Runtime, model_data

HOST_HAL = """/* tinyflow.runtimes.compiled: host ticks for a compiled model library (a fixed stub). */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <time.h>
uint32_t tinyflow_hal_ticks(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint32_t)((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}
uint32_t tinyflow_hal_ticks_per_second(void) { return 1000000000u; }
"""


def build_host_library(compiled, sanitize: bool = False, optimize: str = "-O2", trace: str | None = None) -> Path:
    """Compile model + kernels into a cached shared library; returns its path.

    Args:
        trace: C source defining tinyflow_trace_op: the model is built with TINYFLOW_TRACE_OPS and
            calls it after each op (tinyflow.runtimes.intermediates).
    """
    from tinyflow.resources import firmware_dir

    flags = ["-std=c99", optimize, "-Wall", "-Wextra", "-Werror", "-fPIC"]
    extra = {"tinyflow_host_hal.c": HOST_HAL, **({"tinyflow_trace.c": trace} if trace else {})}
    staged = stage_sources({**compiled.sources, **extra}, "compiled-src")
    build = CBuild(
        sources=staged + compiled.kernel_sources(),
        include_dirs=[firmware_dir() / "include"],
        defines={"TINYFLOW_TRACE_OPS": None} if trace else {},
        cflags=flags,
        ldflags=["-shared", "-lm"],
        sanitize=sanitize,
    )
    suffix = ("_san" if sanitize else "") + ("_trace" if trace else "")
    return build_executable(build, f"lib{compiled.name}_aot{suffix}.so")


class HostModel:
    """A compiled model loaded with ctypes: set inputs, invoke, read outputs as numpy arrays."""

    def __init__(self, compiled, sanitize: bool = False):
        self.compiled = compiled
        self.lib = ctypes.CDLL(str(build_host_library(compiled, sanitize=sanitize)))
        self.lib.tinyflow_model_input.restype = ctypes.POINTER(ctypes.c_uint8)
        self.lib.tinyflow_model_output.restype = ctypes.POINTER(ctypes.c_uint8)
        if self.lib.tinyflow_model_init() != 0:
            raise ModelError("The compiled model failed to initialise", "Report this with the model.")
        m = compiled.model
        self.inputs = [m.tensors[i] for i in m.inputs]
        self.outputs = [m.tensors[i] for i in m.outputs]

    def run(self, *inputs: np.ndarray, op_ticks: bool = False):
        """One inference; returns the outputs (copies), and per-op ticks (ns) when asked."""
        for k, (t, x) in enumerate(zip(self.inputs, inputs)):
            data = np.ascontiguousarray(x, dtype=t.dtype).tobytes()
            if len(data) != t.nbytes:
                raise ModelError(
                    f"Input {k} has {len(data)} bytes, the model expects {t.nbytes}",
                    f"Pass an array of shape {list(t.shape)}.",
                )
            if getattr(self.compiled, "stream_ring", 0):  # a streamed input: its entry takes the bytes in order
                status = self.lib.tinyflow_model_input_rows(k, 0, data, len(data))
                if status != 0:
                    raise ModelError(f"The compiled model refused its input (status {status})", "Report this.")
                continue
            ctypes.memmove(self.lib.tinyflow_model_input(k), data, len(data))
        ticks = (ctypes.c_uint32 * max(len(self.compiled.op_names), 1))() if op_ticks else None
        status = self.lib.tinyflow_model_invoke(ticks)
        if status != 0:
            raise ModelError(f"The compiled model returned status {status}", "Report this with the model.")
        outs = [
            np.frombuffer(ctypes.string_at(self.lib.tinyflow_model_output(k), t.nbytes), dtype=t.dtype)
            .reshape(t.shape)
            .copy()
            for k, t in enumerate(self.outputs)
        ]
        return (outs, list(ticks)) if op_ticks else outs


class CompiledRuntime(Runtime):
    """`model` compiled by tinyflow.compile (reference "wheel": the arithmetic of the tflite_micro
    wheel) and built for this host; `sanitize` builds it with the sanitizers."""

    name = "compiled"
    reference = "compiled C (tinyflow.compile, wheel arithmetic) built with the host compiler"

    def __init__(self, model, sanitize: bool = False):
        from tinyflow.compile import compile_model

        self._host = HostModel(compile_model(model_data(model)), sanitize=sanitize)
        self.model = self._host.compiled.model

    def _invoke(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        return self._host.run(*arrays)

    def reset(self) -> None:
        if self._host.lib.tinyflow_model_init() != 0:
            raise ModelError("The compiled model failed to initialise", "Report this with the model.")
