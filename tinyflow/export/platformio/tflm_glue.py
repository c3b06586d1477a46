"""Generate the model-specific half of the TFLM glue: op resolver, arena size, tensor specs.

The fixed half is firmware/tflm/model_tflm.cpp; it includes the header made here
(`tinyflow_tflm_model.h`) and the C array of the .tflite (`tinyflow_model_data.cc`). Pure: model in,
text out.
"""

from __future__ import annotations

# The arena margin and its reasons live with the one fit check (tinyflow.boards), which counts it.
from tinyflow.boards import ARENA_MARGIN_FRACTION, ARENA_MARGIN_MIN_BYTES, arena_with_margin  # noqa: F401
from tinyflow.compile.cemit import PROJECT_COMMAND, generated_banner, model_info_c, tensor_specs_c
from tinyflow.errors import ModelError
from tinyflow.escaping import c_string
from tinyflow.export.c_array import c_array_text
from tinyflow.tflite import TfliteModel

# MicroMutableOpResolver<N>::Add* methods of the pinned Arduino_TensorFlowLite library
# (tflite-micro-arduino-examples 7948b85, TFLM synced 2023-02-27). Listed from its header by
# hand; an op whose method is missing here has no kernel in that library.
PINNED_RESOLVER_METHODS = frozenset(
    """
Abs Add AddN ArgMax ArgMin AssignVariable AveragePool2D BatchToSpaceNd BroadcastArgs BroadcastTo
CallOnce Cast Ceil Concatenation Conv2D Cos CumSum DepthToSpace DepthwiseConv2D Dequantize Div
Elu Equal Exp ExpandDims Fill Floor FloorDiv FloorMod FullyConnected Gather GatherNd Greater
GreaterEqual HardSwish If L2Normalization L2Pool2D LeakyRelu Less LessEqual Log LogSoftmax
LogicalAnd LogicalNot LogicalOr Logistic MaxPool2D Maximum Mean Minimum MirrorPad Mul Neg NotEqual
Pack Pad PadV2 Prelu Quantize ReadVariable ReduceMax Relu Relu6 Reshape ResizeBilinear
ResizeNearestNeighbor Round Rsqrt SelectV2 Shape Sin Slice Softmax SpaceToBatchNd SpaceToDepth
Split SplitV Sqrt Square SquaredDifference Squeeze StridedSlice Sub Sum Svdf Tanh Transpose
TransposeConv UnidirectionalSequenceLSTM Unpack VarHandle While ZerosLike
""".split()
)

# BuiltinOperator names whose method is not the CamelCase of the name.
_METHOD_EXCEPTIONS = {
    "PADV2": "PadV2",
    "CUMSUM": "CumSum",
    "BATCH_MATMUL": "BatchMatMul",
    "SVDF": "Svdf",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "UnidirectionalSequenceLSTM",
    "SELECT_V2": "SelectV2",
    "SPLIT_V": "SplitV",
    "REVERSE_V2": "ReverseV2",
    "PRELU": "Prelu",
    "RELU6": "Relu6",
}

DATA_NAME = "tinyflow"  # C name of the model array: the glue refers to g_tinyflow_model_data


def resolver_method(op_name: str) -> str:
    """The MicroMutableOpResolver Add* method (without `Add`) for a BuiltinOperator name.

    Raises:
        ModelError: a custom op, or an op the pinned TFLM library has no kernel for.
    """
    if op_name.startswith(("CUSTOM:", "UNKNOWN_")):
        raise ModelError(
            f"Op {op_name} has no kernel in the pinned TFLM library (Arduino_TensorFlowLite 7948b85)",
            "Remove the op from the model, or register its kernel in the generated project by hand.",
        )
    method = _METHOD_EXCEPTIONS.get(op_name) or "".join(
        p if p[:1].isdigit() else p.capitalize() for p in op_name.split("_")
    )
    if method not in PINNED_RESOLVER_METHODS:
        raise ModelError(
            f"Op {op_name} has no kernel in the pinned TFLM library (Arduino_TensorFlowLite 7948b85)",
            "Use --runtime aot if the compiled runtime supports it, or remove the op from the model.",
        )
    return method


def resolver_methods(model: TfliteModel) -> list[str]:
    """The distinct Add* methods the model needs, in first-use order."""
    seen: dict[str, None] = {}
    for name in model.op_names():
        seen.setdefault(resolver_method(name), None)
    return list(seen)


def model_header(model: TfliteModel, name: str, arena_bytes: int, source: str, version: str) -> str:
    """tinyflow_tflm_model.h: arena size, the resolver with exactly the model's ops, the specs."""
    methods = resolver_methods(model)
    adds = "\n".join(f"  if (r.Add{m}() != kTfLiteOk) return kTfLiteError;" for m in methods)
    ops = ", ".join(c_string(n) for n in model.op_names()) or "0"
    return f"""{generated_banner(source, version)}
#ifndef TINYFLOW_TFLM_MODEL_H
#define TINYFLOW_TFLM_MODEL_H

#include <stdint.h>

#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tinyflow/model.h"

/* Host-measured arena plus {ARENA_MARGIN_FRACTION:.0%} (at least {ARENA_MARGIN_MIN_BYTES} B); see docs/tflm-library.md. */
#ifndef TINYFLOW_TFLM_ARENA_BYTES
#define TINYFLOW_TFLM_ARENA_BYTES {arena_bytes}
#endif
#define TINYFLOW_TFLM_NUM_OP_TYPES {max(1, len(methods))}

#include "tinyflow_model_data.h"  /* g_tinyflow_model_data: the .tflite, 16-byte aligned */

/* Exactly the model's {len(methods)} op type(s): nothing else is linked in. */
static inline TfLiteStatus tinyflow_tflm_register_ops(
    tflite::MicroMutableOpResolver<TINYFLOW_TFLM_NUM_OP_TYPES> &r) {{
{adds}
  return kTfLiteOk;
}}

static const char *const tinyflow_tflm_op_names[] = {{{ops}}};

{tensor_specs_c(model, "tinyflow_tflm")}
{model_info_c(model, name, "tflm", "TINYFLOW_TFLM_ARENA_BYTES", "tinyflow_tflm")}
#endif /* TINYFLOW_TFLM_MODEL_H */
"""


def model_data_files(model: TfliteModel, source: str) -> dict[str, str]:
    """The .tflite as a C array (tinyflow.export.c_array): {file name: text}, symbol g_tinyflow_model_data."""
    header, body = c_array_text(model.data, DATA_NAME, source, command=PROJECT_COMMAND)
    return {f"{DATA_NAME}_model_data.h": header, f"{DATA_NAME}_model_data.cc": body}
