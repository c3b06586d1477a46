"""cos, log1p (double) and powf from the platform C library, for building front end tables.

TensorFlow's micro frontend builds its window, filterbank and PCAN tables with these functions,
and their last bit differs between libm and numpy (measured with glibc 2.36: float32 log1p on 222
of 5,000 inputs, powf on 1,056 of 5,000). A rounding flip there changes a Q12 weight and so a
feature. Calling the libm TensorFlow's op links gives the same tables; the firmware gets the
finished integer tables, so host and device agree whatever the device's libm does.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=1)
def _libm():
    name = ctypes.util.find_library("m") or ctypes.util.find_library("c")
    try:
        lib = ctypes.CDLL(name)
        for fn, kind, nargs in (
            ("cos", ctypes.c_double, 1),
            ("log1p", ctypes.c_double, 1),
            ("powf", ctypes.c_float, 2),
        ):
            getattr(lib, fn).restype = kind
            getattr(lib, fn).argtypes = [kind] * nargs
        return lib
    except (OSError, AttributeError, TypeError):
        return None  # no C library reachable: numpy's float32 functions (may differ in the last bit)


def _apply(fn: str, fallback, dtype, *args) -> np.ndarray:
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=dtype) for a in args))
    lib = _libm()
    if lib is None:
        return np.asarray(fallback(*arrays), dtype=dtype)
    call = getattr(lib, fn)
    flat = [a.ravel().tolist() for a in arrays]
    return np.array([call(*vals) for vals in zip(*flat)], dtype=dtype).reshape(arrays[0].shape)


def cos(x) -> np.ndarray:
    """C cos(double), elementwise."""
    return _apply("cos", np.cos, np.float64, x)


def log1p(x) -> np.ndarray:
    """C log1p(double), elementwise."""
    return _apply("log1p", np.log1p, np.float64, x)


def powf(x, y) -> np.ndarray:
    """C powf(float, float), elementwise."""
    return _apply("powf", np.power, np.float32, x, y)
