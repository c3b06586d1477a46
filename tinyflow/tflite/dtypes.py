"""The .tflite tensor types: one table of TensorType number, name, numpy dtype, size and C type.

Every place that maps tensor types reads this table: the reader and writer (numpy dtypes), the
device link (its wire codes are the TensorType numbers, as are model.h's TINYFLOW_DTYPE_*), the
compiled C and the generated projects. Pure data: importing it loads neither numpy nor the schema
(tests/tflite/test_dtypes.py checks the numbers against ai_edge_litert's schema).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TensorType:
    """One .tflite TensorType and how tinyflow holds its values."""

    code: int  # the schema's TensorType number (also the wire and model.h code)
    name: str  # the schema's name: "INT8"
    numpy: str  # numpy dtype name of the values as read ("int8"; INT4 is unpacked to int8)
    itemsize: int  # bytes per element as read
    ctype: str | None = None  # the C element type of the compiled runtime, when it has one


TENSOR_TYPES = (
    TensorType(0, "FLOAT32", "float32", 4, "float"),
    TensorType(1, "FLOAT16", "float16", 2),
    TensorType(2, "INT32", "int32", 4, "int32_t"),
    TensorType(3, "UINT8", "uint8", 1, "uint8_t"),
    TensorType(4, "INT64", "int64", 8, "int64_t"),
    TensorType(5, "STRING", "object", 1),  # variable-length bytes
    TensorType(6, "BOOL", "bool", 1, "uint8_t"),
    TensorType(7, "INT16", "int16", 2, "int16_t"),
    TensorType(8, "COMPLEX64", "complex64", 8),
    TensorType(9, "INT8", "int8", 1, "int8_t"),
    TensorType(10, "FLOAT64", "float64", 8),
    TensorType(11, "COMPLEX128", "complex128", 16),
    TensorType(12, "UINT64", "uint64", 8),
    TensorType(15, "UINT32", "uint32", 4),
    TensorType(16, "UINT16", "uint16", 2),
    TensorType(17, "INT4", "int8", 1),  # packed two a byte in the file, unpacked by the reader
)
BY_NAME = {t.name: t for t in TENSOR_TYPES}
BY_CODE = {t.code: t for t in TENSOR_TYPES}
# TensorType name -> numpy dtype name of the values the reader returns.
NUMPY_NAMES = {t.name: t.numpy for t in TENSOR_TYPES}
# numpy dtype name -> TensorType of the real-number and bool types a numpy array holds one-to-one
# (what the writer builds; not INT4, STRING or the complex types).
BY_NUMPY = {t.numpy: t for t in TENSOR_TYPES if t.name not in ("INT4", "STRING", "COMPLEX64", "COMPLEX128")}
# TensorType name -> C element type of the compiled runtime.
CTYPES = {t.name: t.ctype for t in TENSOR_TYPES if t.ctype}

# What the device link and model.h's tinyflow_tensor_spec_t carry (TINYFLOW_DTYPE_*), by code.
LINK_TYPES = tuple(BY_NAME[n] for n in ("FLOAT32", "INT32", "UINT8", "INT16", "INT8"))
LINK_BY_CODE = {t.code: t for t in LINK_TYPES}
LINK_CODES = {t.name: t.code for t in LINK_TYPES}
LINK_BY_NUMPY = {t.numpy: t for t in LINK_TYPES}
