"""Lowering registry: how each .tflite op becomes one C kernel call in the compiled runtime.

A lowering is a function `lower(op, ctx) -> Lowered`, registered by listing it in a module-level
`LOWERINGS = {"OP_NAME": lower}` dict of any module in this package (modules are discovered, so
adding an op never edits this file). A name registered by two modules is an error at import time.

Every lowered op also declares its inputs in a module-level `ARITY = {"OP_NAME": ("input", "filter",
"bias?")}`: names in order, `?` marks an optional one (absent or -1), `"inputs..."` any number
of at least one. The compiler checks every op against it (checks.check_arity) once, before
folding or lowering reads `op.inputs`, so a lowering may index the inputs its arity requires.

`op` is a `tinyflow.tflite.Op` (`.name`, `.options` snake_case dict, `.inputs`/`.outputs` tensor
indices, -1 for an absent optional input). `ctx` is a `LowerContext`:

    ctx.tensor(i)            the tinyflow.tflite.Tensor (shape, type_name, scale, zero_point, ...)
    ctx.value(i)             the constant's numpy value (constant-folded ones included) or None
    ctx.ptr(i, "int8_t")     C expression for the tensor's buffer, typed `int8_t *` (activations
                             live in the planned arena; constants are flash arrays)
    ctx.const_array(ctype, values, stem="w") -> symbol of a new `static const ctype sym[N]`
    ctx.struct(cstruct, params, stem="p") -> symbol of a new `static const <type> sym` (a
                             tinyflow.compile.ops.cstruct.CStruct rendered with designated init.)
    ctx.fail(message, hint=None)   raise ModelError naming the op ("Op 3 (CONV_2D): ...")

`Lowered`:
    call      C expression returning the kernel's int status (0 ok), e.g.
              "tinyflow_add_s8(&p3, &b3, T(1), T(2), T(5))"; "" when nothing runs (alias)
    kernels   stems of firmware/kernels/*.c the call needs, e.g. ("add", "fixedpoint")
    alias     True: output 0 IS input 0's memory (RESHAPE); the planner merges their lifetimes
    inplace   (input position, output position) pairs that may share memory because the kernel
              reads each element before writing the same element (element-wise ops)
    overlap   None, or d (bytes): output 0 may start up to d bytes after input 0's start although
              they overlap, because the kernel walks both in raster order and has always read the
              input bytes it overwrites (conv, depthwise, pooling; d is usually negative). Used
              only when input 0 dies at this op.

Lowerings run on the host once per compile and must validate everything the kernel trusts
(shapes, quantization, option values): the device runs Eval blind.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable

from tinyflow.errors import ModelError


@dataclass(frozen=True)
class Lowered:
    """One op lowered to C; see the module docstring."""

    call: str
    kernels: tuple[str, ...] = ()
    alias: bool = False
    inplace: tuple[tuple[int, int], ...] = ()
    overlap: int | None = None


LowerFn = Callable[..., Lowered]
_REGISTRY: dict[str, LowerFn] | None = None
_ARITY: dict[str, tuple[str, ...]] = {}


def registry() -> dict[str, LowerFn]:
    """Op name -> lowering, from every module of this package that defines LOWERINGS."""
    global _REGISTRY
    if _REGISTRY is None:
        found: dict[str, LowerFn] = {}
        owner: dict[str, str] = {}
        modules = [
            importlib.import_module(f"{__name__}.{info.name}")
            for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)
        ]
        for module in modules:
            for name, fn in getattr(module, "LOWERINGS", {}).items():
                if name in found:
                    raise RuntimeError(f"op {name} is lowered by both {owner[name]} and {module.__name__}")
                found[name], owner[name] = fn, module.__name__
        for module in modules:
            _ARITY.update(getattr(module, "ARITY", {}))
        missing = sorted(set(found) - set(_ARITY))
        if missing:
            raise RuntimeError(f"ops {', '.join(missing)} are lowered but declare no ARITY")
        _REGISTRY = found
    return _REGISTRY


def arity_for(name: str) -> tuple[str, ...] | None:
    """The declared inputs of op `name` (lowered or constant-folded), or None for an op we do not run."""
    from tinyflow.compile.fold import ARITY as FOLDED

    registry()
    return _ARITY.get(name) or FOLDED.get(name)


def lowering_for(name: str) -> LowerFn:
    """The lowering of op `name`, or the ModelError users see for an unsupported op."""
    fn = registry().get(name)
    if fn is None:
        raise ModelError(
            f"Op {name} is not supported by the compiled runtime.", "Use --runtime tflm, or remove it from the model."
        )
    return fn


def supported_ops() -> list[str]:
    """Names of every op the compiled runtime lowers (constant-folded ones excluded)."""
    return sorted(registry())
