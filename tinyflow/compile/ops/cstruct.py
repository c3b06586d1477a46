"""C parameter structs of the kernels that take one, described once for code generation and for tests.

Each kernel header in firmware/include/tinyflow/kernels/ declares a `tinyflow_*_t` struct; the
matching CStruct here lists its fields in declaration order. Code generation renders designated
initializers (`{.left_shift = 20, ...}`, through tinyflow.compile.cemit), tests build the same layout with ctypes, so a field
out of order fails the kernel tests rather than miscompiling a model.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

from tinyflow.compile.cemit import struct_literal

_CTYPES = {"int32_t": ctypes.c_int32, "int8_t": ctypes.c_int8, "uint8_t": ctypes.c_uint8, "float": ctypes.c_float}


@dataclass(frozen=True)
class CStruct:
    """A C struct: its typedef name and (field, C type, array length or 0) in declaration order."""

    name: str
    fields: tuple[tuple[str, str, int], ...]

    def initializer(self, params: dict) -> str:
        """C99 designated initializer of `params` (every field required)."""
        return struct_literal(self.name, self.fields, params)

    def ctypes_type(self) -> type:
        """A ctypes.Structure with the same layout."""
        layout = [(f, _CTYPES[t] * n if n else _CTYPES[t]) for f, t, n in self.fields]
        return type(self.name, (ctypes.Structure,), {"_fields_": layout})

    def ctypes_value(self, params: dict):
        """A filled ctypes instance of this struct."""
        cls = self.ctypes_type()
        obj = cls()
        for field, _ctype, count in self.fields:
            if count:
                getattr(obj, field)[:] = list(params[field])
            else:
                setattr(obj, field, params[field])
        return obj


def _i32(*names: str) -> tuple:
    return tuple((n, "int32_t", 0) for n in names)


def _arr(name: str, count: int, ctype: str = "int32_t") -> tuple:
    return ((name, ctype, count),)


D = 6  # TINYFLOW_KERNEL_MAX_DIMS
BROADCAST = CStruct("tinyflow_broadcast_t", _arr("dims", D) + _arr("strides1", D) + _arr("strides2", D))
ADD = CStruct(
    "tinyflow_add_params_t",
    _i32(
        "left_shift",
        "input1_offset",
        "input1_multiplier",
        "input1_shift",
        "input2_offset",
        "input2_multiplier",
        "input2_shift",
        "output_offset",
        "output_multiplier",
        "output_shift",
        "act_min",
        "act_max",
    ),
)
MUL = CStruct(
    "tinyflow_mul_params_t",
    _i32("input1_offset", "input2_offset", "output_offset", "output_multiplier", "output_shift", "act_min", "act_max"),
)
SOFTMAX = CStruct(
    "tinyflow_softmax_params_t", _i32("input_multiplier", "input_left_shift", "diff_min", "outer", "depth")
)
SIGMOID = CStruct(
    "tinyflow_sigmoid_params_t",
    _i32("input_zero_point", "input_range_radius", "input_multiplier", "input_left_shift", "size"),
)
QUANTIZE = CStruct(
    "tinyflow_quantize_params_t",
    (("scale", "float", 0),) + _i32("input_zero_point", "output_zero_point", "multiplier", "shift", "size"),
)
DEQUANTIZE = CStruct("tinyflow_dequantize_params_t", (("scale", "float", 0),) + _i32("zero_point", "size"))
MEAN = CStruct(
    "tinyflow_mean_params_t",
    _i32("input_zero_point", "output_zero_point", "multiplier", "shift", "num_reduced")
    + _arr("kept_dims", D)
    + _arr("kept_strides", D)
    + _arr("reduced_dims", D)
    + _arr("reduced_strides", D),
)
CONCAT = CStruct("tinyflow_concat_params_t", _i32("num_inputs", "outer") + _arr("copy_bytes", 16))
CONCAT_REQUANT = CStruct(
    "tinyflow_concat_requant_t", _arr("scale", 16, "float") + _arr("input_zero_point", 16) + _i32("output_zero_point")
)
PAD = CStruct(
    "tinyflow_pad_params_t",
    _i32("element_bytes")
    + _arr("input_dims", D)
    + _arr("output_dims", D)
    + _arr("left", D)
    + _arr("pad_value", 4, "uint8_t"),
)
RELU = CStruct(
    "tinyflow_relu_params_t",
    _i32("input_offset", "output_offset", "output_multiplier", "output_shift", "act_min", "act_max", "size"),
)
RELU6 = CStruct("tinyflow_relu6_params_t", (("lower", "int8_t", 0), ("upper", "int8_t", 0)) + _i32("size"))
SVDF = CStruct(
    "tinyflow_svdf_params_t",
    _i32(
        "batch",
        "input_size",
        "filters",
        "rank",
        "memory",
        "input_zero_point",
        "state_zero_point",
        "output_zero_point",
        "scale1_multiplier",
        "scale1_shift",
        "scale2_multiplier",
        "scale2_shift",
    ),
)
