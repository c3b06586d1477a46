"""Every intermediate tensor of the firmware on sim://qemu-m4 (Cortex-M4 DSP kernels) against TFLM's.

    report = compare_intermediates_on_qemu(compile_model(data), samples)   # IntermediatesReport
    report.first_difference    # None, or the first (sample, op, tensor) that differs

tinyflow.runtimes.intermediates does this for the host build (portable kernels); here the model
runs where the DSP kernels run: the mps2-an386 firmware, built with TINYFLOW_TRACE_OPS and the
port's trace.c, which after each whole op writes that op's output tensors (a table generated here
from CompiledModel.op_outputs and the plan says which arena bytes) to a host file through
semihosting. Inputs go through the normal link (DeviceClient.infer); the trace file is then read
back and compared op by op with TFLM's tensors (the same child process and report types).
A workflow, not a runtime: it builds firmware and opens a target.
"""

from __future__ import annotations

import struct
import tempfile
from pathlib import Path

import numpy as np

from tinyflow.errors import ModelError, UsageError
from tinyflow.runtimes.intermediates import IntermediatesReport, _as_batches, compare_traced

RECORD = struct.Struct("<III")  # op, tensor, byte count (firmware/ports/mps2_an386/trace.c)
REPLY_TIMEOUT_S = 120.0  # one traced inference of the largest corpus model is a few seconds


def trace_entries(compiled) -> list[tuple[int, int, int, int]]:
    """(op, tensor, arena offset, bytes) of every op output that is whole in the arena after its op
    (outputs of ops inside patch-based stages have no plan offset: never whole, not traced)."""
    offsets = compiled.plan.offsets
    return [
        (k, t, int(offsets[t]), int(compiled.model.tensors[t].nbytes))
        for k, outs in enumerate(compiled.op_outputs)
        for t in outs
        if t in offsets
    ]


def trace_table_c(compiled) -> str:
    """The C table trace.c reads: which arena bytes each op writes."""
    from tinyflow.compile.cemit import generated_banner

    rows = [f"  {{{k}u, {t}u, {off}u, {n}u}}," for k, t, off, n in trace_entries(compiled)]
    return "\n".join(
        [
            generated_banner("the memory plan (tinyflow.workflows.intermediates_qemu)"),
            "/* Op outputs in the arena (op, tensor, offset, bytes), for firmware/ports/mps2_an386/trace.c. */",
            "#include <stdint.h>",
            "typedef struct { uint32_t op, tensor, offset, bytes; } tinyflow_trace_entry_t;",
            f"const tinyflow_trace_entry_t tinyflow_trace_entries[{max(len(rows), 1)}] = {{",
            *(rows or ["  {0u, 0u, 0u, 0u},"]),
            "};",
            f"const uint32_t tinyflow_trace_count = {len(rows)}u;",
            "",
        ]
    )


def parse_trace(data: bytes, compiled, samples: int) -> list[dict[int, np.ndarray]]:
    """{tensor: array} per inference from a trace file's bytes (untrusted: every size is checked).

    A record of an op at or before the last one seen (or of a tensor already seen) starts the next
    inference. Raises ModelError when the file is malformed or holds another number of inferences.
    """
    known = {t: n for _, t, _, n in trace_entries(compiled)}
    out: list[dict[int, np.ndarray]] = []
    pos, last_op = 0, None
    while pos < len(data):
        if len(data) - pos < RECORD.size:
            raise ModelError(f"The trace file ends inside a record header at byte {pos}", "Run again.")
        op, t, n = RECORD.unpack_from(data, pos)
        pos += RECORD.size
        if known.get(t) != n or op >= len(compiled.op_outputs) or t not in compiled.op_outputs[op]:
            raise ModelError(
                f"The trace file has a bad record at byte {pos - RECORD.size} (op {op}, tensor {t}, {n} bytes)",
                "Rebuild the traced firmware; report this if it persists.",
            )
        if len(data) - pos < n:
            raise ModelError(f"The trace file ends inside tensor {t}'s bytes", "Run again.")
        if not out or last_op is None or op < last_op or t in out[-1]:
            out.append({})
        tensor = compiled.model.tensors[t]
        out[-1][t] = np.frombuffer(
            data, dtype=tensor.dtype, count=n // np.dtype(tensor.dtype).itemsize, offset=pos
        ).reshape(tensor.shape)
        pos, last_op = pos + n, op
    if len(out) != samples:
        raise ModelError(
            f"The trace file holds {len(out)} inferences, {samples} were sent",
            "The firmware ran an inference twice (a link retry) or missed one; run again.",
        )
    return out


def run_traced(compiled, samples, *, board=None, timeout: float = REPLY_TIMEOUT_S) -> bytes:
    """The raw trace file of `samples` (one list of input arrays each) run on sim://qemu-m4."""
    from tinyflow.targets.client import DeviceClient
    from tinyflow.targets.machines import qemu_m4
    from tinyflow.workflows.device import build_qemu_firmware

    batches = _as_batches(samples)
    fw = build_qemu_firmware(compiled, board or qemu_m4.DEFAULT_BOARD, trace_table=trace_table_c(compiled))
    with tempfile.TemporaryDirectory(prefix="tinyflow-trace-") as tmp:
        if any(c.isspace() for c in tmp):  # SYS_GET_CMDLINE separates arguments by spaces
            raise UsageError(f"The temporary folder {tmp!r} has a space in its path", "Set TMPDIR to one without.")
        path = Path(tmp) / "trace.bin"
        port = qemu_m4.QemuPort(fw.path, args=("--trace", str(path)), timeout=timeout)
        try:
            client = DeviceClient(port, timeout=timeout)
            client.handshake()
            for batch in batches:
                client.infer(batch)
        finally:
            port.close()
        return path.read_bytes() if path.exists() else b""


def compare_intermediates_on_qemu(compiled, samples, *, board=None) -> IntermediatesReport:
    """Every op output of the firmware on sim://qemu-m4 (DSP kernels) against TFLM's, sample by sample."""
    batches = _as_batches(samples)
    ours = parse_trace(run_traced(compiled, batches, board=board), compiled, len(batches))
    return compare_traced(compiled, batches, ours)
