"""LowerContext: what a lowering (tinyflow.compile.ops) sees of the model and the C it adds.

Activation pointers are emitted as `TF_T<i>` tokens that codegen defines once the memory plan is
known, so lowerings run before planning (the planner needs their alias/in-place answers).
"""

from __future__ import annotations

import math

import numpy as np

from tinyflow.compile.cemit import render_bytes, render_values
from tinyflow.errors import ModelError
from tinyflow.tflite.dtypes import CTYPES

_HINT = "The model is malformed or uses this op in a way the compiled runtime does not support; use --runtime tflm."


# From this many elements an int8/uint8 constant is emitted as one string literal instead of a
# brace list: GCC builds a tree node per list element (a 5 M-weight model took 22 s and 670 MB of
# cc1; as a string 2 s and 90 MB). Small tables keep the readable list (and -pedantic's 4095-char limit).
STRING_MIN_ELEMENTS = 4096
_BYTE_CTYPES = ("int8_t", "uint8_t")


# The DSP kernels' tables (widened weights) trade flash for speed. Without a board (plain compile,
# export) the budget is that of the smallest DSP board in boards/: 512 KB of flash, 64 KB of it for
# the compiled runtime's code and core, so constants up to 448 KB fit it: tables are added only while
# the model's constants (the .tflite's size, an upper bound) plus the tables stay within that, and a
# model that fit such a board without them still does.
DSP_TABLE_FLASH_BYTES = 448 * 1024
# With a board the budget is what that board spares (board_table_flash): its usable flash minus the
# compiled runtime's code estimate and this margin, which covers what the .tflite's size does not
# bound (the per-channel multipliers and shifts, the params structs) and a small front end's tables.
# For the 512 KB DSP boards it gives about the default above (436 KB).
TABLE_FLASH_MARGIN_BYTES = 32 * 1024
# Tables are an optimization the user did not ask for: they never take the flash the user's own
# code needs. At least this fraction of the usable flash stays free, more than the fit check's
# "tight" threshold (tinyflow.boards.fit.TIGHT, 10%), so tables alone never make a model "fit (tight)".
TABLE_FLASH_HEADROOM = 0.12
# A machine's budget without a board file (tinyflow.build.firmware.BoardBudget: usable flash only)
# subtracts the largest aot runtime estimate of boards/ for the code.
RUNTIME_FLASH_ESTIMATE = 28 * 1024


def board_table_flash(board) -> int:
    """Bytes of flash the model's constants and DSP tables may take together on `board` (a
    tinyflow.boards Board, or anything with usable `flash_bytes` such as a BoardBudget): its usable
    flash minus the aot runtime's code and table_flash_margin(). 0 on a core without the DSP
    extension, which never compiles the tables (so they are not generated at all)."""
    if getattr(board, "dsp", True) is False:
        return 0
    if hasattr(board, "reserved_flash_bytes"):
        usable = int(board.flash_bytes) - int(board.reserved_flash_bytes)
        runtimes = getattr(board, "runtimes", None) or {}
        code = int(board.runtime("aot").flash_bytes) if "aot" in runtimes else RUNTIME_FLASH_ESTIMATE
    else:
        usable, code = int(board.flash_bytes), RUNTIME_FLASH_ESTIMATE
    return max(0, usable - code - table_flash_margin(usable))


def table_flash_margin(usable: int) -> int:
    """Flash kept free of DSP tables on a board with `usable` bytes (TABLE_FLASH_HEADROOM)."""
    return max(TABLE_FLASH_MARGIN_BYTES, math.ceil(usable * TABLE_FLASH_HEADROOM))


class LowerContext:
    """Shared by all ops of one compile; `op` is set to the op being lowered."""

    def __init__(self, model, values: dict[int, np.ndarray], reference: str = "wheel", table_flash: int | None = None):
        self.model = model
        # Flash for the model's constants plus DSP tables (board_table_flash); None: DSP_TABLE_FLASH_BYTES.
        self.table_flash = DSP_TABLE_FLASH_BYTES if table_flash is None else int(table_flash)
        self.values = values
        self.reference = reference  # whose arithmetic the kernels' parameters follow (compile.quant.REFERENCES)
        self.decls: list[str] = []
        self.const_bytes = 0
        # Of const_bytes, what only cores with the DSP extension compile (kernel-variant tables
        # under VARIANT_GUARDS): a core without it does not carry them in flash.
        self.dsp_const_bytes = 0
        self.dw_table_bytes = 0  # of dsp_const_bytes: the depthwise kernels' tables
        self._dw_reserve: int | None = None
        self.op = None
        self.supports_variables = True  # variable tensors are planned for the whole invoke, reset in init
        self._const_syms: dict[int, str] = {}
        self._count = 0

    # -- model access ---------------------------------------------------------------
    def tensor(self, i: int):
        if not 0 <= i < len(self.model.tensors):
            self.fail(f"refers to tensor {i}, but the model has {len(self.model.tensors)}")
        return self.model.tensors[i]

    def value(self, i: int) -> np.ndarray | None:
        return self.values.get(i)

    def fail(self, message: str, hint: str | None = None):
        op = self.op
        where = f"Op {op.index} ({op.name})" if op is not None else "The model"
        raise ModelError(f"{where}: {message}", hint or _HINT)

    def expect(
        self,
        i: int,
        types: tuple[str, ...] = ("INT8",),
        rank: int | None = None,
        constant: bool | None = None,
        what: str = "tensor",
    ):
        """The tensor at index i, checked for type, rank and constness; ModelError otherwise."""
        if i < 0:
            self.fail(f"needs its {what} but it is absent")
        t = self.tensor(i)
        if t.type_name not in types:
            self.fail(f"{what} {t.name} is {t.type_name}; the compiled runtime needs {'/'.join(types)}")
        if rank is not None and len(t.shape) != rank:
            self.fail(f"{what} {t.name} has shape {list(t.shape)}; expected rank {rank}")
        if constant is True and self.value(i) is None:
            self.fail(f"{what} {t.name} must be a constant")
        if constant is False and self.value(i) is not None:
            self.fail(f"{what} {t.name} is a constant; the compiled runtime needs it computed")
        return t

    # -- C emission -----------------------------------------------------------------
    def _symbol(self, stem: str) -> str:
        self._count += 1
        idx = self.op.index if self.op is not None else 0
        return f"{stem}{idx}_{self._count}"

    def dsp_table_budget(self, depthwise: bool = False) -> int:
        """Bytes of DSP-kernel tables the model may still add (table_flash: the board's, or DSP_TABLE_FLASH_BYTES).

        Depthwise tables save the most instructions per byte, so the pointwise and
        fully-connected tables (`depthwise=False`) leave room for every depthwise table still to come.
        """
        left = self.table_flash - len(self.model.data or b"") - self.dsp_const_bytes
        if depthwise:
            return left
        if self._dw_reserve is None:
            self._dw_reserve = depthwise_table_bound(self.model)
        return left - max(0, self._dw_reserve - self.dw_table_bytes)

    def dsp_tail_array(self, stem: str, values, tail, depthwise: bool = False) -> str:
        """One int32 array: `values` (a bias), then `tail` (a Cortex-M4 kernel's table head and
        table) compiled only on cores with the DSP extension (VARIANT_GUARDS); the portable kernels
        read `values` only. Counts the tail as DSP-only flash (and as a depthwise table)."""
        from tinyflow.compile.cemit import render_values
        from tinyflow.compile.kernels import VARIANT_GUARDS

        values = np.asarray(values, dtype=np.int64).astype(np.int32)
        tail = np.asarray(tail, dtype=np.int64).astype(np.uint32).view(np.int32)
        sym = self._symbol(stem)
        body, extra = (render_values("int32_t", v)[1:-1].strip() for v in (values, tail))
        guard = VARIANT_GUARDS["cortex_m4"]
        self.decls.append(f"static const int32_t {sym}[] = {{\n  {body},\n#if {guard}\n  {extra},\n#endif\n}};")
        self.const_bytes += 4 * (values.size + tail.size)
        self.dsp_const_bytes += 4 * tail.size
        if depthwise:
            self.dw_table_bytes += 4 * tail.size
        return sym

    def dsp_layout_bytes(self, values, dsp_values, stem: str = "c") -> str:
        """One int8 array holding `dsp_values` on cores with the DSP extension (VARIANT_GUARDS) and
        `values` on the others: the same bytes in the order a Cortex-M4 kernel reads them, so the
        layout costs no flash. Returns the symbol (counted once in const_bytes)."""
        from tinyflow.compile.kernels import VARIANT_GUARDS

        arr, dsp = (np.asarray(v).reshape(-1).astype(np.int8) for v in (values, dsp_values))
        if arr.size != dsp.size:  # a lowering's bug, not the model's: both layouts hold the same bytes
            self.fail(f"has a DSP weight layout of {dsp.size} bytes for {arr.size}")
        sym = self._symbol(stem)
        if arr.size >= STRING_MIN_ELEMENTS:
            n, bodies = arr.size + 1, [render_bytes(v) for v in (dsp, arr)]
        else:
            n, bodies = max(arr.size, 1), [render_values("int8_t", v) for v in (dsp, arr)]
        guard = VARIANT_GUARDS["cortex_m4"]
        self.decls.append(f"static const int8_t {sym}[{n}] =\n#if {guard}\n{bodies[0]}\n#else\n{bodies[1]}\n#endif\n;")
        self.const_bytes += n
        return sym

    def const_array(self, ctype: str, values, stem: str = "w") -> str:
        """Emit `static const ctype sym[N]` (flash) and return sym."""
        arr = np.asarray(values).reshape(-1)
        sym = self._symbol(stem)
        if ctype in _BYTE_CTYPES and arr.size >= STRING_MIN_ELEMENTS:
            n, init = arr.size + 1, render_bytes(arr)  # + the string literal's NUL (see render_bytes)
        else:
            n, init = max(arr.size, 1), render_values(ctype, arr)
        self.decls.append(f"static const {ctype} {sym}[{n}] = {init};")
        self.const_bytes += n * _sizeof(ctype)
        return sym

    def struct(self, cstruct, params: dict, stem: str = "p") -> str:
        """Emit `static const <cstruct.name> sym = {...}` and return sym."""
        sym = self._symbol(stem)
        self.decls.append(f"static const {cstruct.name} {sym} = {cstruct.initializer(params)};")
        self.const_bytes += sum(_sizeof(t) * (n or 1) for _, t, n in cstruct.fields)
        return sym

    def ptr(self, i: int, ctype: str | None = None) -> str:
        """C expression for tensor i's buffer: a flash array for constants, the arena otherwise."""
        t = self.tensor(i)
        ctype = ctype or CTYPES.get(t.type_name, "uint8_t")
        value = self.value(i)
        if value is not None:
            sym = self._const_syms.get(i)
            if sym is None:
                sym = self.const_array(CTYPES.get(t.type_name, "uint8_t"), value, stem="c")
                self._const_syms[i] = sym
            return f"(const {ctype} *){sym}"
        return f"({ctype} *)TF_T{i}"


def _sizeof(ctype: str) -> int:
    return {"int8_t": 1, "uint8_t": 1, "int16_t": 2, "int32_t": 4, "float": 4, "int64_t": 8}.get(ctype, 4)


def depthwise_table_bound(model) -> int:
    """Bytes the model's depthwise tables can take at most (ops/conv.py _dwb_blocks: per block of
    4 channels 20 + 2 x taps words, plus a 2-word head; only channel counts that are multiples of 4)."""
    total = 0
    for op in model.ops:
        if op.name != "DEPTHWISE_CONV_2D" or len(op.inputs) < 2 or not 0 <= op.inputs[1] < len(model.tensors):
            continue
        shape = model.tensors[op.inputs[1]].shape
        if len(shape) == 4 and shape[3] % 4 == 0:
            total += 4 * ((shape[3] // 4) * (20 + 2 * shape[1] * shape[2]) + 2)
    return total
