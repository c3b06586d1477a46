"""Render the compiled model as one C99 file implementing firmware/include/tinyflow/model.h.

Pure: takes the lowered ops, the memory plan and the constant declarations, returns text; the
banner, tensor specs and model info come from tinyflow.compile.cemit, as in every generated file.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinyflow.compile.cemit import generated_banner, model_info_c, tensor_specs_c
from tinyflow.escaping import COMMENT_LIMIT, c_comment, c_string


@dataclass
class OpCall:
    """One lowered op as codegen needs it."""

    name: str
    call: str
    # None: run `call` and time it as op k. A list: these lines run instead, timing themselves (a
    # patch-based stage: its first op holds the whole band loop, the others an empty list).
    block: list[str] | None = None


def render_model_c(
    model,
    name: str,
    calls: list[OpCall],
    kernel_headers: list[str],
    decls: list[str],
    offsets: dict[int, int],
    arena_bytes: int,
    api: str | None = None,
    shared_arena: str | None = None,
    streamed: bool = False,
) -> str:
    """The whole model.c text.

    Args:
        api: None: the seven model.h functions keep their names (tinyflow_model_*, the device
            loop's contract); "<name>_model": they become <name>_model_*, declared in the
            "<name>_model.h" of api_header(), so several models link into one program.
        shared_arena: None: the model's own static arena; a C identifier: the application's
            arena of that name (TINYFLOW_DEFINE_ARENA), shared by models that run one at a time.
        streamed: the input streams (tinyflow.compile.stream, which declared <api>_input_rows):
            the model info says so and points at it.
    """
    header, api = api, api or "tinyflow_model"
    words = max((arena_bytes + 3) // 4, 1)
    source = f"model '{name[:COMMENT_LIMIT]}' ({len(model.data)} bytes, sha256 {model.sha256[:16]})"
    lines = [
        generated_banner(source, command="tinyflow compile"),
        "#include <stddef.h>",
        "#include <stdint.h>",
        '#include "tinyflow/hal.h"',
        '#include "tinyflow/model.h"',
    ]
    if header:
        lines.append(f'#include "{header}.h"')
    lines += [f'#include "tinyflow/kernels/{h}.h"' for h in kernel_headers]
    lines += ["", f"#define TF_ARENA_BYTES {arena_bytes}u"]
    if shared_arena:
        lines += [
            f"/* The activation arena is the application's {shared_arena}[] (TINYFLOW_DEFINE_ARENA), shared",
            " * with other models that run one at a time; init refuses one smaller than TF_ARENA_BYTES. */",
            f"extern int32_t {shared_arena}[];",
            f"extern const uint32_t {shared_arena}_bytes;",
            f"#define TF_ARENA ((uint8_t *){shared_arena})",
        ]
    else:
        lines += [
            "/* One static activation arena, laid out by tinyflow's memory planner; int32 words for alignment. */",
            f"static int32_t tf_arena[{words}];",
            "#define TF_ARENA ((uint8_t *)tf_arena)",
        ]
    lines += [f"#define TF_T{t} (TF_ARENA + {off})" for t, off in sorted(offsets.items())]
    lines += [
        "#ifdef TINYFLOW_TRACE_OPS",
        "/* Debug builds only (tinyflow.runtimes.intermediates): called after each whole op with the arena,",
        " * so a host harness reads every intermediate tensor the moment it is produced. */",
        "void tinyflow_trace_op(int op, const uint8_t *arena);",
        "#define TF_TRACE(k) tinyflow_trace_op((k), TF_ARENA)",
        "#else",
        "#define TF_TRACE(k) ((void)0)",
        "#endif",
    ]
    lines += ["", *decls, ""]
    stream = f"TINYFLOW_MODEL_INPUT_STREAMED, {api}_input_rows" if streamed else None
    lines.append(
        (
            tensor_specs_c(model, "tf") + model_info_c(model, name, "aot", "TF_ARENA_BYTES", "tf", len(calls), stream)
        ).rstrip()
    )
    names = ", ".join(c_string(c.name) for c in calls) or '""'
    lines.append(f"static const char *const tf_op_names[{max(len(calls), 1)}] = {{{names}}};")
    lines += [
        "",
        *_init_fn(model, offsets, api, shared_arena),
        "",
        f"const tinyflow_model_info_t *{api}_info(void) {{ return &tf_info; }}",
        "",
    ]
    lines += _io_fn(f"uint8_t *{api}_input", model.inputs, offsets)
    lines += _io_fn(f"const uint8_t *{api}_output", model.outputs, offsets)
    lines += _invoke(calls, api)
    lines += [
        f"const char *{api}_op_name(int index) {{",
        f"  return (index >= 0 && index < {len(calls)}) ? tf_op_names[index] : NULL;",
        "}",
        "",
        f"uint32_t {api}_arena_used(void) {{ return TF_ARENA_BYTES; }}",
        "",
    ]
    return "\n".join(lines)


def api_header(api: str, name: str, arena_bytes: int, streamed: bool = False) -> str:
    """<api>.h: the namespaced model.h functions of one compiled model (api is a C identifier),
    its arena size, and TINYFLOW_DEFINE_ARENA for an arena several models share (streamed: and
    <api>_input_rows, its streamed input's entry)."""
    guard = f"TINYFLOW_API_{api}_H"  # not upper-cased: 'Kws' and 'kws' keep distinct guards
    decls = [
        "int {}_init(void);",
        "const tinyflow_model_info_t *{}_info(void);",
        "uint8_t *{}_input(int index);",
        "const uint8_t *{}_output(int index);",
        "int {}_invoke(uint32_t *op_ticks);",
        "const char *{}_op_name(int index);",
        "uint32_t {}_arena_used(void);",
    ]
    if streamed:
        decls.append("int {}_input_rows(int index, uint32_t offset, const uint8_t *data, uint32_t len);")
    return "\n".join(
        [
            generated_banner(f"model '{name[:COMMENT_LIMIT]}'", command="tinyflow compile"),
            f"#ifndef {guard}",
            f"#define {guard}",
            "/* The tinyflow/model.h contract under this model's own names (see model.h for each). */",
            '#include "tinyflow/model.h"',
            f"#define TINYFLOW_ARENA_BYTES_{api} {arena_bytes}u",
            "#ifndef TINYFLOW_DEFINE_ARENA",
            "/* In one .c file: TINYFLOW_DEFINE_ARENA(name, bytes) defines the arena models compiled with",
            " * that name share (bytes: the largest of their TINYFLOW_ARENA_BYTES_*; int32 words align it). */",
            "#define TINYFLOW_DEFINE_ARENA(sym, bytes) \\",
            "  int32_t sym[((bytes) + 3u) / 4u];     \\",
            "  const uint32_t sym##_bytes = (uint32_t)sizeof(sym)",
            "#endif",
            '#ifdef __cplusplus\nextern "C" {\n#endif',
            *(d.format(api) for d in decls),
            "#ifdef __cplusplus\n}\n#endif",
            f"#endif /* {guard} */",
            "",
        ]
    )


def _init_fn(model, offsets, api: str, shared_arena: str | None) -> list[str]:
    """tf_reset_state (variable tensors to their zero point, as TFLM's ResetVariableTensors) and
    tinyflow_model_init. Invoke resets too, unless built with TINYFLOW_KEEP_STATE: each sample is
    independent, as in the host reference (tinyflow.runtimes.tflm.run) and sim://tflm."""
    lines = ["static void tf_reset_state(void) {"]
    for t in model.tensors:
        if t.is_variable and t.index in offsets:
            zp = int(t.zero_point[0]) if t.type_name == "INT8" and len(t.zero_point) else 0
            lines.append(
                f"  {{ uint8_t *p = TF_T{t.index}; uint32_t k; "
                f"for (k = 0; k < {int(t.nbytes)}u; ++k) p[k] = (uint8_t){zp & 0xFF}; }}"
            )
    lines += ["}", "", f"int {api}_init(void) {{"]
    if shared_arena:
        lines.append(f"  if ({shared_arena}_bytes < TF_ARENA_BYTES) return -1; /* the shared arena is too small */")
    return lines + ["  tf_reset_state();", "  return 0;", "}"]


def _io_fn(signature: str, indices, offsets) -> list[str]:
    body = [f"{signature}(int index) {{", "  switch (index) {"]
    body += [f"    case {k}: return TF_T{t};" for k, t in enumerate(indices) if t in offsets]
    body += ["    default: return NULL;", "  }", "}", ""]
    return body


def _invoke(calls: list[OpCall], api: str) -> list[str]:
    out = [
        f"int {api}_invoke(uint32_t *op_ticks) {{",
        "#ifndef TINYFLOW_KEEP_STATE",
        "  tf_reset_state(); /* before t0: not billed to op 0 */",
        "#endif",
        "  int status = 0;",
        "  uint32_t t0 = op_ticks != NULL ? tinyflow_hal_ticks() : 0u, t1;",
        "  (void)t1;",
    ]
    for k, c in enumerate(calls):
        out.append(f"  /* {k}: {c_comment(c.name)} */")
        if c.block is not None:
            out += c.block
            continue
        if c.call:
            out.append(f"  status = {c.call};")
            out.append("  if (status != 0) return status;")
        out.append(f"  TF_TRACE({k});")
        out.append(f"  if (op_ticks != NULL) {{ t1 = tinyflow_hal_ticks(); op_ticks[{k}] = t1 - t0; t0 = t1; }}")
    out += ["  return status;", "}", ""]
    return out
