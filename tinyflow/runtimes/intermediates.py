"""Every intermediate tensor of the compiled runtime against TFLite Micro's, op by op.

    report = compare_intermediates(compile_model(data), samples)   # IntermediatesReport
    report.first_difference    # None, or (sample, op index, op name, tensor name, max |diff|)

Compiled side: the model built for this host with TINYFLOW_TRACE_OPS, whose generated invoke calls
`tinyflow_trace_op(k, arena)` after each whole op (tinyflow.compile.codegen); a ctypes callback
copies op k's outputs out of the planned arena at that moment, before a later op may reuse their
bytes, so the check covers the real memory plan (in-place and overlapping outputs included). Ops
inside a patch-based stage run band by band and never hold a whole output: they are not traced.
TFLM side: the tflite_micro interpreter with kPreserveAllTensors (no buffer reuse; GetTensor reads
any tensor after invoke), in a one-shot child process with a deadline and an address-space cap,
as every TFLM run in tinyflow (tinyflow.runtimes._worker says why).
"""

from __future__ import annotations

import ctypes
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyflow.errors import ModelError

TRACE_C = """/* tinyflow.runtimes.intermediates: forwards each traced op to a hook the host harness sets. */
#include <stdint.h>
typedef void (*tinyflow_trace_fn)(int op, const uint8_t *arena);
tinyflow_trace_fn tinyflow_trace_hook = 0;
void tinyflow_trace_op(int op, const uint8_t *arena);
void tinyflow_trace_op(int op, const uint8_t *arena) {
  if (tinyflow_trace_hook != 0) tinyflow_trace_hook(op, arena);
}
"""
_HOOK = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_void_p)
LOAD_TIMEOUT_S = 120.0
INVOKE_TIMEOUT_S = 120.0
CHILD_MEMORY_BYTES = 3 << 29  # as tinyflow.runtimes._worker: Python + numpy + tflite_micro fit well below

_CHILD = r"""
import resource, sys
limit = int(sys.argv[5])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import numpy as np
from tflite_micro import runtime
model, inputs, out, arena = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
tensors = [int(t) for t in sys.argv[6].split(",") if t]
it = runtime.Interpreter.from_bytes(open(model, "rb").read(), arena_size=arena,
                                    intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
with np.load(inputs, allow_pickle=False) as z:
    samples = int(z["n"])
    found = {}
    for s in range(samples):
        it.reset()
        k = 0
        while f"s{s}_i{k}" in z:
            it.set_input(z[f"s{s}_i{k}"], k)
            k += 1
        it.invoke()
        for t in tensors:
            found[f"s{s}_t{t}"] = np.asarray(it.GetTensor(t, 0)["tensor_data"], order="C")
np.savez(out, **found)
"""


@dataclass(frozen=True)
class Difference:
    """The first intermediate tensor (in execution order) where the two runtimes disagree."""

    sample: int
    op_index: int  # step of the compiled op list
    op_name: str
    tensor: str
    max_abs_diff: int
    elements_differing: int

    def __str__(self) -> str:
        return (
            f"sample {self.sample}, op {self.op_index} ({self.op_name}), tensor {self.tensor!r}: "
            f"{self.elements_differing} elements differ, max abs diff {self.max_abs_diff}"
        )


@dataclass(frozen=True)
class IntermediatesReport:
    """How many op outputs were compared over how many samples, and the first difference if any."""

    samples: int
    ops_compared: int
    ops_not_traced: int  # inside patch-based stages (never whole in memory)
    tensors_compared: int  # per sample
    first_difference: Difference | None

    @property
    def identical(self) -> bool:
        return self.first_difference is None

    def to_dict(self) -> dict:
        d = dict(vars(self))
        d["first_difference"] = vars(self.first_difference) if self.first_difference else None
        return d


def _as_batches(samples) -> list[list[np.ndarray]]:
    return [list(s) if isinstance(s, (list, tuple)) else [s] for s in samples]


def compiled_intermediates(compiled, samples) -> list[dict[int, np.ndarray]]:
    """{tensor index: array} of every traced op output, per sample (a list of input arrays each)."""
    from tinyflow.runtimes.compiled import build_host_library

    lib = ctypes.CDLL(str(build_host_library(compiled, trace=TRACE_C)))
    lib.tinyflow_model_input.restype = ctypes.POINTER(ctypes.c_uint8)
    if lib.tinyflow_model_init() != 0:
        raise ModelError("The compiled model failed to initialise", "Report this with the model.")
    m, offsets = compiled.model, compiled.plan.offsets
    seen: dict[int, np.ndarray] = {}

    def on_op(k: int, arena: int) -> None:
        for t in compiled.op_outputs[k]:
            if t in offsets:  # the callback must not raise: ctypes would only print it
                tensor = m.tensors[t]
                raw = ctypes.string_at(arena + offsets[t], int(tensor.nbytes))
                seen[t] = np.frombuffer(raw, dtype=tensor.dtype).reshape(tensor.shape).copy()

    hook = _HOOK(on_op)  # kept alive for the library's calls below
    ctypes.c_void_p.in_dll(lib, "tinyflow_trace_hook").value = ctypes.cast(hook, ctypes.c_void_p).value
    out = []
    try:
        for batch in _as_batches(samples):
            for k, (t, x) in enumerate(zip(m.inputs, batch)):
                data = np.ascontiguousarray(x, dtype=m.tensors[t].dtype).tobytes()
                if len(data) != m.tensors[t].nbytes:
                    raise ModelError(
                        f"Input {k} has {len(data)} bytes, the model expects {m.tensors[t].nbytes}",
                        f"Pass an array of shape {list(m.tensors[t].shape)}.",
                    )
                if getattr(compiled, "stream_ring", 0):  # a streamed input: its entry takes the bytes in order
                    if lib.tinyflow_model_input_rows(k, 0, data, len(data)) != 0:
                        raise ModelError("The compiled model refused its input", "Report this with the model.")
                    continue
                ctypes.memmove(lib.tinyflow_model_input(k), data, len(data))
            seen = {}
            status = lib.tinyflow_model_invoke(None)
            if status != 0:
                raise ModelError(f"The compiled model returned status {status}", "Report this with the model.")
            out.append(seen)
    finally:
        ctypes.c_void_p.in_dll(lib, "tinyflow_trace_hook").value = None
    return out


def tflm_intermediates(model, samples, tensors: list[int]) -> list[dict[int, np.ndarray]]:
    """{tensor index: array} of `tensors` after each sample's invoke in TFLM (kPreserveAllTensors).

    Raises:
        ModelError: TFLM refused the model, crashed, or missed its deadline.
    """
    from tinyflow.runtimes.tflm import _safe_arena, check_supported

    check_supported(model)
    batches = _as_batches(samples)
    with tempfile.TemporaryDirectory(prefix="tinyflow-intermediates-") as tmp:
        d = Path(tmp)
        (d / "model.tflite").write_bytes(model.data)
        arrays = {f"s{s}_i{k}": np.asarray(x) for s, b in enumerate(batches) for k, x in enumerate(b)}
        np.savez(d / "in.npz", n=np.int64(len(batches)), **arrays)
        # Every tensor kept at once: the reuse-free arena is the sum of activations, which
        # _safe_arena covers twice over.
        args = [str(d / "model.tflite"), str(d / "in.npz"), str(d / "out.npz"), str(_safe_arena(model))]
        args += [str(CHILD_MEMORY_BYTES), ",".join(map(str, tensors))]
        timeout = LOAD_TIMEOUT_S + INVOKE_TIMEOUT_S * len(batches)
        try:
            proc = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise ModelError(f"TFLite Micro took more than {timeout:.0f} s", "Check the model with inspect.") from exc
        if proc.returncode != 0:
            last = (proc.stderr.decode(errors="replace").strip().splitlines() or [f"exit {proc.returncode}"])[-1]
            raise ModelError(f"TFLite Micro failed keeping every tensor: {last[:300]}", "Check the model with inspect.")
        with np.load(d / "out.npz", allow_pickle=False) as z:
            return [{t: z[f"s{s}_t{t}"] for t in tensors} for s in range(len(batches))]


def compare_intermediates(compiled, samples) -> IntermediatesReport:
    """Every op output the compiled runtime produces (host build) against TFLM's, sample by sample."""
    return compare_traced(compiled, samples, compiled_intermediates(compiled, _as_batches(samples)))


def compare_traced(compiled, samples, ours: list[dict[int, np.ndarray]]) -> IntermediatesReport:
    """Traced op outputs (`ours`, per sample: {tensor: array}) against TFLM's for the same samples
    (the host build's, or the firmware's on an emulator: tinyflow.workflows.intermediates_qemu)."""
    batches = _as_batches(samples)
    traced = sorted({t for sample in ours for t in sample})
    theirs = tflm_intermediates(compiled.model, batches, traced)
    ops = [k for k, outs in enumerate(compiled.op_outputs) if any(t in traced for t in outs)]
    first = None
    for s, (a, b) in enumerate(zip(ours, theirs)):
        first = _first_difference(compiled, s, a, b, ops)
        if first is not None:
            break
    return IntermediatesReport(
        samples=len(batches),
        ops_compared=len(ops),
        ops_not_traced=len(compiled.op_outputs) - len(ops),
        tensors_compared=len(traced),
        first_difference=first,
    )


def _first_difference(compiled, sample: int, ours: dict, theirs: dict, ops: list[int]) -> Difference | None:
    for k in ops:
        for t in compiled.op_outputs[k]:
            if t not in ours:
                continue
            a = ours[t].astype(np.int64).ravel()
            b = np.asarray(theirs[t]).astype(np.int64).ravel()
            if a.shape != b.shape or not np.array_equal(a, b):
                diff = np.abs(a - b) if a.shape == b.shape else np.array([-1])
                return Difference(
                    sample=sample,
                    op_index=k,
                    op_name=compiled.op_names[k],
                    tensor=compiled.model.tensors[t].name,
                    max_abs_diff=int(diff.max()),
                    elements_differing=int(np.count_nonzero(diff)),
                )
    return None
