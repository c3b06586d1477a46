"""Work and size budgets for an untrusted .tflite: unpacking with the flatbuffers object API, and
the activations a model may declare (check_activation_sizes).

Flatbuffers may share tables: 2,000 offsets can point at one subgraph whose 2,000 offsets point at
one tensor. That is a valid ~16 KB file, but an object-API unpack follows every offset and
builds 4 million tensors (strings likewise: one long name referenced from every tensor). A
file without sharing holds at most one table-vector element per 4 bytes and one string byte
per byte, so anything past that is refused before unpacking.
"""

from __future__ import annotations

from tinyflow.errors import ModelError

HINT = "Check that the file is an intact .tflite model (re-export it from the converter)."
SIZE_HINT = (
    "Check the model's tensor shapes (the input shape first): the file is malformed or not a microcontroller model."
)

# Activations (non-constant tensors) have no bytes in the file to bound them: their shapes alone
# make a runtime allocate. No microcontroller (even with 16 MB of PSRAM) runs a model past these,
# so they are refused here, before any runtime, planner or dataset sizes a buffer from them.
MAX_TENSOR_BYTES = 64 << 20
MAX_ACTIVATION_BYTES = 256 << 20


def check_budget(model, size: int) -> None:
    """Count table-vector elements and string bytes before unpacking, as the object API would
    visit them; more than the file could hold means shared or overlapping tables."""
    budget = {"element": size // 4 + 16, "string byte": size}

    def spend(n: int, what: str, kind: str = "element") -> int:
        budget[kind] -= max(n, 0)
        if budget[kind] < 0 or n < 0:
            raise ModelError(f"The .tflite file's {what} {kind}s ({n}) cannot fit in its {size} bytes", HINT)
        return n

    def text(value) -> None:
        spend(len(value or b""), "name", "string byte")

    for i in range(spend(model.OperatorCodesLength(), "operator code")):
        text(model.OperatorCodes(i).CustomCode())
    spend(model.BuffersLength(), "buffer")
    for i in range(spend(model.MetadataLength(), "metadata")):
        text(model.Metadata(i).Name())
    for i in range(spend(model.SignatureDefsLength(), "signature")):
        sig = model.SignatureDefs(i)
        text(sig.SignatureKey())
        for j in range(spend(sig.InputsLength(), "signature input")):
            text(sig.Inputs(j).Name())
        for j in range(spend(sig.OutputsLength(), "signature output")):
            text(sig.Outputs(j).Name())
    for i in range(spend(model.SubgraphsLength(), "subgraph")):
        sg = model.Subgraphs(i)
        text(sg.Name())
        spend(sg.OperatorsLength(), "operator")
        for j in range(spend(sg.TensorsLength(), "tensor")):
            t = sg.Tensors(j)
            text(t.Name())
            spend(t.VariantTensorsLength(), "variant tensor")
            sp = t.Sparsity()
            if sp is not None:
                spend(sp.DimMetadataLength(), "sparsity dimension")


def check_activation_sizes(tensors: list, where: str = "") -> None:
    """Refuse activations (tinyflow.tflite.Tensor, non-constant) larger than any microcontroller could hold."""
    total = 0
    for t in tensors:
        if t.is_constant:
            continue  # bounded by the file: its bytes were checked against its shape
        total += t.nbytes
        if t.nbytes > MAX_TENSOR_BYTES:
            raise ModelError(
                f"Tensor {t.index} ({t.name}){where} of shape {list(t.shape)} {t.type_name} needs "
                f"{t.nbytes:,} bytes; tinyflow takes activations of at most {MAX_TENSOR_BYTES:,} bytes "
                "(more than any microcontroller has)",
                SIZE_HINT,
            )
    if total > MAX_ACTIVATION_BYTES:
        raise ModelError(
            f"The model's activations{where} add up to {total:,} bytes; tinyflow takes at most "
            f"{MAX_ACTIVATION_BYTES:,} (more than any microcontroller has)",
            SIZE_HINT,
        )
