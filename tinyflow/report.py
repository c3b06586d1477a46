"""Small helpers every report uses: aligned text tables, byte counts, JSON-safe values.

    from tinyflow.report import table, fmt_bytes, jsonable, to_json
    print(table(["op", "count"], [["CONV_2D", 14], ["SOFTMAX", 1]], title="Ops"))
    fmt_bytes(85264)  # '85,264 B (83.3 KiB)'
    fmt_latency(1035279.0)  # '1.04 s'

Numbers are right-aligned, text left-aligned. No dependencies beyond the standard library
(numpy values are converted if numpy is already imported by the caller).
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from tinyflow.escaping import terminal_text


def fmt_int(n: int | float | None) -> str:
    """1234567 -> '1,234,567'; None -> '-'."""
    if n is None:
        return "-"
    return f"{int(n):,}"


def fmt_bytes(n: int | None, kib: bool = True) -> str:
    """Bytes with thousands separators, and KiB when large: '85,264 B (83.3 KiB)'."""
    if n is None:
        return "-"
    text = f"{int(n):,} B"
    if kib and abs(n) >= 1024:
        text += f" ({n / 1024:.1f} KiB)"
    return text


def fmt_pct(x: float | None, digits: int = 1) -> str:
    """0.1234 -> '12.3%'."""
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.{digits}f}%"


# (upper bound in microseconds, unit, microseconds per unit): the first bound above the value wins.
# The bounds sit where rounding to the digits shown would print 1,000.0 µs or 1,000.00 ms.
_LATENCY_UNITS = ((999.95, "µs", 1.0), (999_995.0, "ms", 1e3), (math.inf, "s", 1e6))


def latency_unit(us: float) -> tuple[str, float]:
    """The unit a latency of `us` microseconds reads best in: ('µs', 1), ('ms', 1e3) or ('s', 1e6)."""
    return next((unit, scale) for bound, unit, scale in _LATENCY_UNITS if abs(us) < bound)


def fmt_latency(*us: float | None, unit: str | None = None) -> str:
    """Latencies in microseconds, in one unit chosen by the largest: '35.2 µs', '1.04 / 1.21 s'.

    Every place a latency is printed uses this, so a 1,035,279 µs inference reads '1.04 s' and a
    35 µs one '35.2 µs'. `unit` forces one ('µs', 'ms' or 's'), e.g. for a table column.
    """
    known = [v for v in us if v is not None and math.isfinite(v)]
    if not known:
        return "-"
    name, scale = next(((u, s) for _, u, s in _LATENCY_UNITS if u == unit), None) or latency_unit(max(known))
    digits = 1 if name == "µs" else 2
    text = " / ".join("-" if v is None or not math.isfinite(v) else f"{v / scale:,.{digits}f}" for v in us)
    return f"{text} {name}"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) or type(v).__module__ == "numpy"


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    if _is_number(v) and float(v).is_integer():
        return f"{int(v):,}"
    return terminal_text(str(v))  # names come from model files and devices: one line, no control bytes


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None, indent: int = 0) -> str:
    """An aligned plain-text table (numbers right-aligned) with an optional title line."""
    cells = [[_cell(v) for v in row] for row in rows]
    numeric = [all(_is_number(row[i]) or row[i] is None for row in rows) and bool(rows) for i in range(len(headers))]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values):
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)]
        return " " * indent + "  ".join(parts).rstrip()

    out = [title] if title else []
    out += [line(headers), " " * indent + "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out)


def key_values(pairs: Sequence[tuple[str, Any]] | Mapping[str, Any], indent: int = 0) -> str:
    """'key: value' lines with the values aligned."""
    items = list(pairs.items()) if isinstance(pairs, Mapping) else list(pairs)
    width = max((len(k) for k, _ in items), default=0)
    return "\n".join(f"{' ' * indent}{k + ':':<{width + 1}} {v if isinstance(v, str) else _cell(v)}" for k, v in items)


def jsonable(obj: Any) -> Any:
    """Convert dataclasses, numpy values/arrays, tuples, sets and objects with to_dict() for json.dumps."""
    if hasattr(obj, "to_dict") and not isinstance(obj, type):
        return jsonable(obj.to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in obj]
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(obj, (np.ndarray, np.generic)):  # their floats may be NaN or infinite too
            return jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)


def to_json(obj: Any, indent: int | None = 2) -> str:
    """`obj` as strict JSON text (jsonable() first): every --json output and report.json use this, so
    NaN and infinities are null (json.dumps would write NaN, which JSON parsers refuse)."""
    return json.dumps(jsonable(obj), indent=indent, allow_nan=False)
