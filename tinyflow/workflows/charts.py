"""Charts for the HTML reports, drawn offline by matplotlib as inline SVG text (no CDN, no network).

Each function takes plain numbers and names and returns one `<svg>` element as a string; the
page's heading names the chart, and `title` becomes its accessible name (aria-label). Text
stays text (svg.fonttype none), so a browser, a test and a screen reader see the labels; ids are
seeded so the same report renders to the same bytes. Names come from model and dataset files:
matplotlib would read `$...$` in them as math, so every label goes through `_label`.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence

# Labels longer than this are cut: a 10 kB class name must not widen the chart.
LABEL_LIMIT = 24
BLUE = "#3b7dd8"


def _label(text, limit: int = LABEL_LIMIT) -> str:
    """Untrusted text as a chart label: control characters visible (an SVG cannot hold most of them),
    cut to `limit`, and `$` escaped so matplotlib does not parse it as math."""
    from tinyflow.escaping import terminal_text

    return terminal_text(str(text), limit).replace("$", r"\$")


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=96, layout="constrained")
    return fig, fig.add_subplot()


def _svg(fig, title: str) -> str:
    """The figure as an `<svg>` element with an accessible name (the XML prolog and DOCTYPE dropped)."""
    import matplotlib

    buf = io.StringIO()
    with warnings.catch_warnings(), matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "tinyflow"}):
        # "Glyph missing from DejaVu Sans" (a class name in another script): the text stays text,
        # and the browser draws it with its own fonts, so the warning is only noise on stderr
        warnings.filterwarnings("ignore", message="Glyph .* missing", category=UserWarning)
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    from html import escape

    return text.replace("<svg ", f"<svg role='img' aria-label='{escape(title, quote=True)}' ", 1)


def histogram(counts: Sequence[int], edges: Sequence[float], xlabel: str, title: str) -> str:
    """Bars of a histogram with labelled axes (x: `xlabel`, y: samples)."""
    fig, ax = _figure(7.0, 2.8)
    widths = [b - a for a, b in zip(edges[:-1], edges[1:])]
    ax.bar(edges[:-1], counts, width=widths, align="edge", color=BLUE, edgecolor="white")
    ax.set_xlabel(_label(xlabel, 80))
    ax.set_ylabel("samples")
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # sample counts are whole numbers
    ax.grid(axis="y", alpha=0.3)
    return _svg(fig, title)


def heat_map(matrix: Sequence[Sequence[int]], names: Sequence[str], title: str) -> str:
    """A confusion matrix: rows true class, columns predicted class, darker = more; counts up to 20 classes."""
    n = len(matrix)
    side = min(9.0, 2.2 + 0.45 * n)
    fig, ax = _figure(side, side * 0.9)
    # pcolormesh, not imshow: imshow embeds a PNG, and the cells should stay vector shapes
    ax.pcolormesh(matrix, cmap="Blues", edgecolors="white", linewidth=0.5)
    ax.set_aspect("equal")
    ax.invert_yaxis()  # true class 0 on top, as the table reads
    labels = [_label(names[i] if i < len(names) else i, 12) for i in range(n)]
    centers = [i + 0.5 for i in range(n)]
    ax.set_xticks(centers, labels, rotation=45 if n > 4 else 0, ha="right" if n > 4 else "center")
    ax.set_yticks(centers, labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    peak = max((v for row in matrix for v in row), default=0) or 1
    if n <= 20:  # beyond that the counts would overlap; the color still tells
        for i, row in enumerate(matrix):
            for j, v in enumerate(row):
                if v:
                    ink = "white" if v > 0.55 * peak else "#222"
                    ax.text(j + 0.5, i + 0.5, str(v), ha="center", va="center", color=ink, fontsize=8)
    return _svg(fig, title)


def bars(names: Sequence[str], values: Sequence[float], xlabel: str, title: str) -> str:
    """Horizontal bars, one per name, first name on top (e.g. time per op)."""
    fig, ax = _figure(7.5, 1.2 + 0.28 * len(names))
    y = list(range(len(names)))
    ax.barh(y, values, color=BLUE)
    ax.set_yticks(y, [_label(n, 32) for n in names])
    ax.invert_yaxis()
    ax.set_xlabel(_label(xlabel, 80))
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig, title)


def timeline(values: Sequence[float], levels: dict[str, float], xlabel: str, ylabel: str, title: str) -> str:
    """A step line of `values` per step, with dashed horizontal `levels` (label -> value) for comparison."""
    fig, ax = _figure(7.5, 3.0)
    steps = list(range(len(values)))
    ax.step(steps, values, where="mid", color=BLUE, label=_label(ylabel, 60))
    ax.fill_between(steps, values, step="mid", color=BLUE, alpha=0.15)
    for (name, level), color in zip(levels.items(), ("#c0392b", "#7f8c8d", "#27ae60")):
        ax.axhline(level, color=color, linestyle="--", linewidth=1, label=_label(name, 60))
    ax.set_xlabel(_label(xlabel, 80))
    ax.set_ylabel(_label(ylabel, 80))
    ax.set_ylim(bottom=0)
    from matplotlib.ticker import StrMethodFormatter

    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))  # 80,000 bytes, not 80000
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    return _svg(fig, title)
