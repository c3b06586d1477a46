"""The .tflite tensor-type table: right numbers, and the only dtype table in tinyflow/."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

import tinyflow
from tinyflow.tflite import dtypes

# Literal tables mapping type names, numpy types, TensorType numbers or C types to each other.
_NAMES = r"(?:float32|float16|int32|uint8|int16|int8|int64|bool)"
_TABLE_ENTRY = re.compile(
    rf"""["']{_NAMES}["']\s*:\s*(?:\d|["']{_NAMES.upper()}|np\.)"""  # "int8": 9 / "int8": "INT8"
    rf"""|\b\d+\s*:\s*(?:["']{_NAMES}["']|np\.{_NAMES}\b)"""  # 9: "int8" / 9: np.int8
    rf"""|["']{_NAMES.upper()}["']\s*:\s*(?:\d|np\.|["']{_NAMES}|["'](?:u?int\d+_t|float)["'])""",
    re.IGNORECASE,
)
_ELSEWHERE = ()


def test_codes_match_the_schema():
    import ai_edge_litert.schema_py_generated as schema

    for t in dtypes.TENSOR_TYPES:
        assert getattr(schema.TensorType, t.name) == t.code, t.name
        if t.name not in ("STRING", "INT4"):
            assert np.dtype(t.numpy).itemsize == t.itemsize, t.name


def test_link_codes_are_model_h_codes():
    header = (Path(tinyflow.__file__).parent.parent / "firmware/include/tinyflow/model.h").read_text()
    found = dict(re.findall(r"TINYFLOW_DTYPE_(\w+) = (\d+)", header))
    assert {t.name: t.code for t in dtypes.LINK_TYPES} == {k: int(v) for k, v in found.items()}


def test_no_other_dtype_table():
    root = Path(tinyflow.__file__).parent
    hits = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel == "tflite/dtypes.py" or rel.startswith(_ELSEWHERE):
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if _TABLE_ENTRY.search(line):
                hits.append(f"{rel}:{n}: {line.strip()}")
    assert not hits, "dtype tables outside tinyflow/tflite/dtypes.py:\n" + "\n".join(hits)


def test_the_wire_format_shares_the_table_without_numpy():
    import subprocess
    import sys

    code = (
        "import sys, tinyflow.protocol\n"
        "from tinyflow.protocol.messages import DTYPE_NAMES, DTYPE_SIZES\n"
        "assert DTYPE_NAMES == {0: 'float32', 2: 'int32', 3: 'uint8', 7: 'int16', 9: 'int8'}, DTYPE_NAMES\n"
        "assert DTYPE_SIZES == {0: 4, 2: 4, 3: 1, 7: 2, 9: 1}, DTYPE_SIZES\n"
        "assert 'numpy' not in sys.modules, 'numpy imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
