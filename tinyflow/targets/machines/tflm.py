"""`sim://tflm[?board=<id>]`: a simulated board running the model in the TFLite Micro reference runtime.

It speaks the device protocol (tinyflow.targets.device.PythonDevice over an in-process port), so
the host drives it exactly like a real board. What it reports:

- outputs: the TFLM reference kernels' (`tflite_micro`), bit-exact with what a TFLM board computes
  with reference kernels; variable tensors are reset before each sample, as the host reference does;
- arena used: measured, from TFLM's RecordingMicroAllocator (the allocation total it prints);
- latency: an ESTIMATE for the board, not a measurement (see LATENCY_BASIS). Ticks are estimated
  CPU cycles and `ticks_per_second` is the board's clock, so microseconds are board time.

`?board=` (default nano33ble) picks the clock and the budgets: a model whose flash (model + TFLM
interpreter) or RAM (arena + margin + interpreter) does not fit the board is refused with the
numbers, by the same check as `inspect --board` and `firmware generate` (tinyflow.boards.fit_model);
with a front end attached (`check_frontend_fit`), its tables, code, buffers and scratch count too.
TFLM itself runs in a worker child (tinyflow.runtimes.open_runtime("tflm", cached=False)), so a
hostile model cannot crash or hang the host; the port's close() stops it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from tinyflow.errors import ModelError, UsageError
from tinyflow.protocol.messages import TensorSpec
from tinyflow.targets.device import ModelInfo, PythonDevice, Runtime, SimPort, model_bytes
from tinyflow.tflite.dtypes import LINK_BY_NUMPY

DEFAULT_BOARD = "nano33ble"
FIRMWARE_VERSION = "sim-tflm 1 (TFLM reference kernels via tflite_micro)"
# Cycles per multiply-accumulate of int8 layers with weights (WEIGHT_OPS) on a Cortex-M4
# running TFLM with CMSIS-NN. Calibrated on the MLPerf Tiny v0.5 reference latencies of the
# STM32L4R5 at 120 MHz (KWS 181.9 ms, IC 704.2 ms, VWW 600.6 ms, AD 10.05 ms) divided by the MACs
# of the corpus copies of the same models (KWS 2.66 M, IC 12.50 M, VWW 7.49 M, AD 0.264 M):
# 8.22, 6.76, 9.62 and 4.58 cycles/MAC; the median is 7.49. It folds in flash wait states, the
# ops without MACs and the interpreter's overhead; see docs/eval.md.
CYCLES_PER_MAC = 7.49
# Other ops cost about this much per operation: a pooling window element, an element-wise output,
# a reduced input (tinyflow.analysis.op_macs), at least one per output element (softmax, reshape).
# Uncalibrated (those ops are a few percent of the calibration models); it keeps them from
# showing as free in profiles.
CYCLES_PER_ELEMENT = 4.0
LATENCY_BASIS = (
    f"is an ESTIMATE, not a measurement: {CYCLES_PER_MAC} cycles per MAC (+{CYCLES_PER_ELEMENT:g} per "
    "operation of other ops) at the board's clock; see docs/eval.md"
)


# Ops whose cost is their multiply-accumulates (tinyflow.analysis.op_macs counts one per weight use).
WEIGHT_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "BATCH_MATMUL", "SVDF"})


def estimate_op_cycles(model) -> list[int]:
    """Estimated Cortex-M4 cycles of each op: CYCLES_PER_MAC x MACs for WEIGHT_OPS, else
    CYCLES_PER_ELEMENT x its operations (tinyflow.analysis.op_macs, at least one per output element)."""
    from tinyflow.analysis import op_macs

    cycles = []
    for op in model.ops:
        work = op_macs(op, model.tensors)  # MACs; pool window elements, element-wise outputs, reduced inputs
        if op.name in WEIGHT_OPS and work:
            cost = CYCLES_PER_MAC * work
        else:
            elements = int(np.prod(model.tensors[op.outputs[0]].shape, dtype=np.int64)) if op.outputs else 0
            cost = CYCLES_PER_ELEMENT * max(work, elements)
        cycles.append(max(1, int(round(cost))))
    return cycles


class TflmDevice(Runtime):
    """The model side of the simulated TFLM board: TFLM reference kernels, measured arena, estimated ticks.

    Not to be confused with tinyflow.runtimes.tflm.TflmRuntime, the host reference it runs in.

    TFLM runs in a worker child (tinyflow.runtimes.tflm), never in this process: a model that
    crashes or hangs TFLM becomes a ModelError. Sizes and the board fit are checked before TFLM
    sees the model. Thread-safe: a port may call it from its own thread. close() stops the child.
    """

    def __init__(self, model_bytes: bytes, board=None, name: str | None = None):
        from tinyflow.runtimes import open_runtime
        from tinyflow.runtimes.tflm import check_supported, measure_arena
        from tinyflow.tflite import read_model
        from tinyflow.tflite.device_io import check_device_io

        self.model_bytes = bytes(model_bytes)
        self.model = read_model(self.model_bytes)  # refuses absurd shapes and sizes
        check_device_io(self.model)
        check_supported(self.model)
        self.board = _load_board(board)
        self.board_id = self.board.id
        self.cpu_hz = int(self.board.cpu_hz)
        self.ticks_per_second = self.cpu_hz  # a tick is one estimated CPU cycle
        self._inputs = [self._spec(i) for i in self.model.inputs]
        outputs = [self._spec(i)[0] for i in self.model.outputs]
        # No TFLM before the fit: the tensors alone must fit, then the measured arena (probe children).
        check_fit(self.board, len(self.model_bytes), arena_lower_bound(self.model), lower_bound=True)
        self.measured_arena = measure_arena(self.model).arena_bytes
        check_fit(self.board, len(self.model_bytes), self.measured_arena)
        self._runtime = open_runtime("tflm", self.model, cached=False)  # a worker child of its own
        try:
            self._arena_used = self._runtime.arena_used()
        except BaseException:
            self._runtime.close()
            raise
        self.op_cycles = estimate_op_cycles(self.model)
        self._info = ModelInfo(
            runtime="tflm",
            model_name=(name or "model")[:40],
            inputs=[s for s, _ in self._inputs],
            outputs=outputs,
            op_names=[op.name for op in self.model.ops],
            model_sha256=hashlib.sha256(self.model_bytes).digest()[:8],
            model_bytes=len(self.model_bytes),
            arena_bytes=_round_up(self._arena_used, 16),
        )

    def _spec(self, index: int) -> tuple[TensorSpec, np.dtype]:
        t = self.model.tensors[index]
        dtype = np.dtype(t.dtype)
        if dtype.name not in LINK_BY_NUMPY:
            raise ModelError(
                f"Tensor {t.name!r} is {dtype.name}; the device link carries only {', '.join(LINK_BY_NUMPY)}",
                "Quantize the model's inputs and outputs to int8.",
            )
        spec = TensorSpec(
            LINK_BY_NUMPY[dtype.name].code,
            tuple(int(d) for d in t.shape),
            float(t.scale[0]) if len(t.scale) else 0.0,
            int(t.zero_point[0]) if len(t.zero_point) else 0,
            int(t.nbytes),
        )
        return spec, dtype

    @property
    def model_input(self):
        """The model's input 0 (a tinyflow.tflite tensor): what a front end fills."""
        return self.model.tensors[self.model.inputs[0]]

    def check_frontend_fit(self, frontend) -> None:
        """Refuse (BoardError) a front end the board has no room for next to the model, by the one
        fit check; `frontend` is its footprint (tinyflow.export.frontend_tables.frontend_footprint,
        computed by the workflow that attaches it: targets/ does not render C)."""
        check_fit(self.board, len(self.model_bytes), self.measured_arena, frontend=frontend)

    def model_info(self) -> ModelInfo:
        return self._info

    def arena_used(self) -> int:
        return self._arena_used

    def invoke(self, inputs: list[bytes]) -> tuple[list[bytes], list[int]]:
        """Run one inference on the raw input buffers; returns (output buffers, estimated op cycles).

        Variable tensors start from zero, as in the host reference."""
        arrays = [
            np.frombuffer(bytes(buf), dtype=dtype).reshape(spec.shape)
            for (spec, dtype), buf in zip(self._inputs, inputs)
        ]
        outs = self._runtime.invoke(arrays)  # variable tensors reset first
        return [np.ascontiguousarray(o).tobytes() for o in outs], list(self.op_cycles)

    def reset(self) -> None:
        """A device reset: every variable tensor goes back to zero."""
        self._runtime.reset()

    def close(self) -> None:
        """Stop the TFLM worker child."""
        self._runtime.close()


def arena_lower_bound(model) -> int:
    """Bytes any arena needs at least: the largest sum of the non-constant tensors one op reads
    and writes (they are live together). Needs no runtime, so it can refuse a model before TFLM loads it."""
    best = sum(model.tensors[i].nbytes for i in model.inputs)
    for op in model.ops:
        live = {i for i in (*op.inputs, *op.outputs) if i >= 0 and not model.tensors[i].is_constant}
        best = max(best, sum(model.tensors[i].nbytes for i in live))
    return int(best)


def check_fit(board, model_bytes: int, arena_bytes: int, lower_bound: bool = False, frontend=None) -> None:
    """Refuse (BoardError with the numbers) a model that does not fit the board, through the one fit
    check inspect and firmware generate use (tinyflow.boards.fit_model: measured arena + margin,
    and the front end's footprint when there is one)."""
    from tinyflow.boards import fit_model

    fit = fit_model(board, "tflm", model_flash=model_bytes, ram=arena_bytes, frontend=frontend)
    if lower_bound and not fit.fits:
        fit.ram_parts = {
            ("arena (at least: tensors live together)" if k == "arena" else k): v for k, v in fit.ram_parts.items()
        }
    fit.raise_if_not_fit()


def _load_board(board):
    from tinyflow.boards import load_board

    return load_board(board or DEFAULT_BOARD)


def _round_up(n: int, k: int) -> int:
    return (n + k - 1) // k * k


def open(url_parts=None, *, model=None, board=None, timeout: float = 2.0, **_ignored):  # noqa: A001
    """Start a simulated TFLM board for `model`; returns a pyserial-like port speaking the protocol.

    Args:
        url_parts: the parsed `sim://tflm?board=<id>` URL (or a query string or dict).
        model: the .tflite as bytes or a path.
        board: a board id or Board; overrides ?board=.
    """
    if model is None:
        raise UsageError("sim://tflm needs a model to run", "Pass the model file (MODEL argument).")
    from tinyflow.targets.sim import query_params

    params = query_params(url_parts)
    unknown = sorted(set(params) - {"board"})
    if unknown:
        raise UsageError(f"sim://tflm does not know the option {', '.join(unknown)}", "Only ?board=<id> is accepted.")
    name = Path(model).stem if isinstance(model, (str, Path)) else None
    runtime = TflmDevice(model_bytes(model), board or params.get("board"), name=name)
    try:
        port = _TflmPort(PythonDevice(runtime, firmware_version=FIRMWARE_VERSION), timeout=timeout)
    except BaseException:
        runtime.close()
        raise
    port.latency_basis = LATENCY_BASIS
    port.runtime = runtime
    return port


class _TflmPort(SimPort):
    """The simulated port; closing it stops the board's TFLM worker child."""

    def close(self) -> None:
        super().close()
        self.device.runtime.close()
