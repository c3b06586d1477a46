"""Read .tflite models without TensorFlow.

    from tinyflow.tflite import read_model
    m = read_model("person_detect.tflite")        # or read_model(tflite_bytes)
    data = read_model_file(path)   # the bytes of a model file: regular files up to MAX_MODEL_BYTES only
    m.op_names()      # ['DEPTHWISE_CONV_2D', 'CONV_2D', ...] in execution order
    t = m.tensors[m.inputs[0]]; t.shape, t.type_name, t.scale, t.zero_point

Only subgraph 0 (the one TFLM runs) is exposed as ops/tensors; `.raw` keeps the whole model.

`TfliteModel`
    `.ops` list[Op] of subgraph 0 in execution order; `.tensors` list[Tensor];
    `.inputs` / `.outputs` tensor indices; `.description` str; `.raw` the
    `ai_edge_litert.schema_py_generated.ModelT` (object API); `.data` the file bytes;
    `.sha256`; `.num_subgraphs`; `.op_names()` -> list[str]; `.all_op_names()` (every
    subgraph, for op-support checks).
`Op`
    `.index`; `.name` the BuiltinOperator name ("CONV_2D"; custom ops "CUSTOM:<code>", codes
    newer than the schema "UNKNOWN_<n>"), from max(builtin_code, deprecated_builtin_code);
    `.inputs` / `.outputs` tensor indices (-1 marks an absent optional input); `.options` dict of
    the builtin options with snake_case keys (stride_w, padding "SAME"/"VALID",
    fused_activation_function "RELU6", new_shape [..]...); `.version`.
`Tensor`
    `.index`, `.name`, `.shape` tuple, `.dtype` numpy dtype, `.type_name` ("INT8"...),
    `.data` read-only numpy view of the constant buffer reshaped to `.shape` (INT4 unpacked to
    int8), or None; `.scale` float32 / `.zero_point` int64 arrays (maybe empty),
    `.quantized_dimension`, `.is_constant`, `.is_variable`, `.nbytes`, `.size` (elements),
    `.shape_signature` (-1 marks a dynamic dimension, e.g. an unfixed batch).

Malformed or hostile bytes raise `tinyflow.errors.ModelError`, never anything else.
"""

__all__ = ["MAX_MODEL_BYTES", "Op", "Tensor", "TfliteModel", "read_model", "read_model_file"]


def __getattr__(name: str):
    # The reader (and numpy) load on first use, so the wire format can share tinyflow.tflite.dtypes
    # without importing numpy.
    if name in __all__:
        from tinyflow.tflite import reader

        return getattr(reader, name)
    raise AttributeError(f"module 'tinyflow.tflite' has no attribute {name!r}")
