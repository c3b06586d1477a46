"""Report helpers: aligned tables, byte formatting, JSON-safe conversion."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from tinyflow.report import fmt_bytes, fmt_int, fmt_pct, jsonable, key_values, table


def test_table_aligns_numbers_right_and_text_left():
    text = table(["op", "count", "MACs"], [["CONV_2D", 14, 6193664], ["SOFTMAX", 1, 0]], title="Ops")
    lines = text.splitlines()
    assert lines[0] == "Ops"
    assert lines[1] == "op       count       MACs"
    assert lines[3] == "CONV_2D     14  6,193,664"
    assert lines[4] == "SOFTMAX      1          0"
    assert table(["a"], []).splitlines() == ["a", "-"]


def test_formatting():
    assert fmt_bytes(85264) == "85,264 B (83.3 KiB)" and fmt_bytes(100) == "100 B" and fmt_bytes(None) == "-"
    assert fmt_int(1234567) == "1,234,567" and fmt_pct(0.1234) == "12.3%" and fmt_pct(float("nan")) == "-"
    assert key_values({"a": 1, "long key": "x"}) == "a:        1\nlong key: x"


def test_jsonable_handles_numpy_dataclasses_and_nan():
    @dataclass
    class R:
        x: np.ndarray
        y: float

    d = jsonable({"r": R(np.arange(3, dtype=np.int8), float("inf")), "t": (np.int64(5), {1, 2}), "n": np.float32(0.5)})
    assert json.loads(json.dumps(d)) == {"r": {"x": [0, 1, 2], "y": None}, "t": [5, [1, 2]], "n": 0.5}


def test_untrusted_names_in_cells_stay_on_their_row():
    text = table(["op", "count"], [["CUSTOM:x\n[env:pwned]\x1b[2J", 1], ["ADD", 2]])
    lines = text.splitlines()
    assert len(lines) == 4 and "\x1b" not in text
    assert lines[2].startswith("CUSTOM:x\\x0a[env:pwned]\\x1b[2J") and lines[2].endswith(" 1")
    assert lines[3].startswith("ADD ") and lines[3].endswith(" 2")


def _strict(text: str):
    def refuse(name):
        raise AssertionError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_every_json_output_is_strict_json(tmp_path):
    """The CLI's --json, report.json of eval and of the demo render through one function: NaN and
    infinities become null (JSON has neither), numpy values become numbers."""
    import click
    from click.testing import CliRunner

    from tinyflow.cli._common import emit
    from tinyflow.workflows import demo

    class Rep:
        def to_dict(self):
            return {"nan": float("nan"), "inf": np.float32("inf"), "arr": np.arange(2), "n": np.int8(3)}

    want = {"nan": None, "inf": None, "arr": [0, 1], "n": 3}
    out = CliRunner().invoke(click.command()(lambda: emit(Rep(), as_json=True)), [])
    assert out.exit_code == 0 and _strict(out.output) == want
    state = demo.DemoState(demo.DemoConfig(out=tmp_path))
    state.report["x"] = Rep()
    assert _strict(demo.write_report(state).read_text())["x"] == want
