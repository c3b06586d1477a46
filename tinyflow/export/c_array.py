"""The `c-array` format: a .tflite as a TFLite Micro C array, `<name>_model_data.h` / `.cc`.

    from tinyflow.export.c_array import export_c_array
    files = export_c_array("person_detect.tflite", "out/")   # name from the file stem
    files.header, files.source, files.symbol                # 'g_person_detect_model_data'

The .cc defines (C linkage, so C and C++ code can both use it)
    alignas(16) const unsigned char g_<name>_model_data[] = {...};
    const unsigned int g_<name>_model_data_size = <bytes>;
alignas(16) because TFLM reads the flatbuffer in place and its int64/float buffers must be
aligned. `c_array_text()` is the pure part (bytes -> text); `export_c_array()` writes files,
streaming the array (`c_array_parts()` + tinyflow.compile.cemit.hex_byte_lines) so memory stays
flat for any model size.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

from tinyflow.compile.cemit import generated_banner, hex_byte_lines
from tinyflow.errors import ModelError, UsageError
from tinyflow.escaping import COMMENT_LIMIT, c_identifier
from tinyflow.outputs import write_outputs

COMMAND = "tinyflow export"


@dataclass
class CArrayFiles:
    """What export_c_array wrote."""

    header: Path
    source: Path
    symbol: str
    size_symbol: str
    nbytes: int

    def to_dict(self) -> dict:
        return {
            "header": str(self.header),
            "source": str(self.source),
            "symbol": self.symbol,
            "size_symbol": self.size_symbol,
            "bytes": self.nbytes,
        }

    def __str__(self) -> str:
        return (
            f"Wrote {self.header} and {self.source}\n"
            f"  {self.symbol}[{self.nbytes:,}] (alignas(16)), {self.size_symbol} = {self.nbytes:,}"
        )


def c_array_parts(data: bytes, name: str, origin: str = "model", command: str = COMMAND) -> tuple[str, str, str]:
    """(header, source head, source tail) for `data`: the .cc is head + hex_byte_lines(data) + tail.

    Args:
        origin: where the bytes came from, for the generated-file banner.
        command: what rewrites the files, for the banner (a project generator passes its own).
    """
    ident = c_identifier(name)
    symbol, size_symbol = f"g_{ident}_model_data", f"g_{ident}_model_data_size"
    guard = f"TINYFLOW_MODEL_DATA_H_{ident}"  # not upper-cased: 'Kws' and 'kws' keep distinct guards
    sha = hashlib.sha256(data).hexdigest()
    source = f"{str(origin)[:COMMENT_LIMIT]} ({len(data)} bytes, sha256 {sha})"
    banner = generated_banner(source, comment="//", command=command) + "\n"
    header = (
        banner + f"#ifndef {guard}\n#define {guard}\n\n"
        '#ifdef __cplusplus\nextern "C" {\n#endif\n\n'
        f"extern const unsigned char {symbol}[];\n"
        f"extern const unsigned int {size_symbol};\n\n"
        '#ifdef __cplusplus\n}  // extern "C"\n#endif\n\n'
        f"#endif  // {guard}\n"
    )
    # An empty initializer list is not valid C++11 for an unsized array; a model is never empty.
    head = (
        banner + f'#include "{ident}_model_data.h"\n\n'
        f'// The header\'s extern "C" declarations give these C linkage and external linkage.\n'
        f"alignas(16) const unsigned char {symbol}[] = {{\n"
    )
    tail = f"}};\nconst unsigned int {size_symbol} = {len(data)};\n"
    return header, head, tail


def c_array_text(data: bytes, name: str, origin: str = "model", command: str = COMMAND) -> tuple[str, str]:
    """The (header, source) text for `data` under the C name derived from `name` (all in memory:
    about 6.3 characters per byte; export_c_array streams the source instead)."""
    header, head, tail = c_array_parts(data, name, origin, command)
    return header, head + "".join(hex_byte_lines(data)) + tail


def export_c_array(
    model: bytes | str | Path, out_dir: str | Path, name: str | None = None, force: bool = False
) -> CArrayFiles:
    """Write `<name>_model_data.h/.cc` for a .tflite (bytes or path) into `out_dir`.

    The folder may hold other files; a file of the same name is overwritten only when tinyflow
    wrote it and it was not edited since (tinyflow.outputs.write_outputs), or with `force`.

    Raises:
        ModelError: the file is missing, empty or not a .tflite.
        UsageError: bytes were given without a name; the files would overwrite the user's.
    """
    from tinyflow.tflite import read_model

    if isinstance(model, (bytes, bytearray)):
        if name is None:
            raise UsageError("A name is needed to export model bytes", "Pass name=... (or --name).")
        data, origin = bytes(model), "model bytes"
    else:
        path = Path(model)
        data, origin = read_model(path).data, path.name
        name = name or path.stem
    if not data:
        raise ModelError("The model is empty (0 bytes)", "Export a real .tflite file.")
    read_model(data)  # refuse to export something TFLM could not parse
    ident = c_identifier(name)
    header, head, tail = c_array_parts(data, ident, origin)
    # Streamed: the text is 6.3 times the model, and a 50 MB model must not need 1.3 GB of RAM.
    source = (text.encode() for text in itertools.chain([head], hex_byte_lines(data), [tail]))
    h, cc = write_outputs(
        {f"{ident}_model_data.h": header.encode(), f"{ident}_model_data.cc": source},
        out_dir,
        force=force,
        exclusive=False,
    )
    return CArrayFiles(
        header=h, source=cc, symbol=f"g_{ident}_model_data", size_symbol=f"g_{ident}_model_data_size", nbytes=len(data)
    )


def parse_c_array(source: str) -> bytes:
    """The bytes of the array in a generated .cc (for tests and round-trip checks)."""
    body = source.split("= {", 1)[1].split("};", 1)[0]
    return bytes(int(tok, 16) for tok in re.findall(r"0x([0-9a-fA-F]{2})", body))
