"""Test helpers for the element-wise/activation/shape kernels: the kernels as one ctypes library,
and the TFLM reference runtime (the oracle) on single-op models built with tinyflow.tflite.writer."""

from __future__ import annotations

import ctypes
import functools
import shutil
from pathlib import Path

import numpy as np

from tinyflow.build.cc import CBuild, build_executable

ROOT = Path(__file__).resolve().parents[2]
KERNELS = [
    "fixedpoint",
    "add",
    "mul",
    "softmax",
    "logistic",
    "tanh",
    "quantize",
    "dequantize",
    "mean",
    "svdf",
    "lut",
    "concatenation",
    "pad",
    "activations",
    "reshape",
]


@functools.lru_cache(maxsize=None)
def library() -> ctypes.CDLL:
    """The kernels built once (cached by content hash) as a shared library."""
    if shutil.which("cc") is None:
        from conftest import missing

        missing("tool 'cc'")
    build = CBuild(
        sources=[ROOT / "firmware" / "kernels" / f"{k}.c" for k in KERNELS],
        include_dirs=[ROOT / "firmware" / "include"],
        cflags=["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-fPIC"],
        ldflags=["-shared", "-lm"],
    )
    return ctypes.CDLL(str(build_executable(build, "libtinyflow_kernels_h8.so")))


def ptr(a: np.ndarray):
    return a.ctypes.data_as(ctypes.c_void_p)


def call(name: str, *args) -> int:
    """Call kernel `name`; ctypes Structures are passed by reference, numpy arrays as pointers."""
    fn = getattr(library(), name)
    conv = [
        ctypes.byref(a) if isinstance(a, ctypes.Structure) else ptr(a) if isinstance(a, np.ndarray) else a for a in args
    ]
    return fn(*conv)


def tflm():
    try:
        from tflite_micro import runtime
    except ImportError:
        from conftest import missing

        missing("tflite_micro (pip install tflite-micro)")
    return runtime


def run_tflm(model: bytes, inputs: list[np.ndarray], n_outputs: int = 1) -> list[np.ndarray]:
    """Invoke `model` once in the TFLM reference runtime."""
    it = tflm().Interpreter.from_bytes(model, arena_size=1 << 20)
    for i, x in enumerate(inputs):
        it.set_input(x, i)
    it.invoke()
    return [it.get_output(i) for i in range(n_outputs)]


def qparams(draw, st, dtype: str = "int8"):
    """A random (scale, zero_point) for an activation tensor."""
    lo, hi = {"int8": (-128, 127), "int16": (0, 0), "uint8": (0, 255)}[dtype]
    exp = draw(st.floats(min_value=-9.0, max_value=1.0))
    mant = draw(st.floats(min_value=1.0, max_value=2.0))
    return float(np.float32(mant * 2.0**exp)), draw(st.integers(lo, hi))


def rand_int(rng: np.random.Generator, shape, dtype: str = "int8") -> np.ndarray:
    info = np.iinfo(np.dtype(dtype))
    return rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
