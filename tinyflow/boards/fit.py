"""The one fit check of a model on a board: `fit_model` (inspect, firmware generate, the
simulators and profile all call it, so they cannot disagree); `check_fit` is its arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tinyflow.boards.catalog import Board, load_board
from tinyflow.errors import BoardError
from tinyflow.report import fmt_bytes, table

TIGHT = 0.10  # less than this fraction of the usable memory left over: "fits (tight)"

# Why a margin on TFLM arenas: the arena is measured with the host's TFLM (64-bit pointers). On a
# 32-bit MCU the persistent tail (TfLiteTensor/TfLiteEvalTensor structs, node data) is smaller, so
# the host figure over-counts it; but optimized kernels (CMSIS-NN, ESP-NN) ask for scratch buffers
# (im2col) that the reference kernels do not, and the pinned library is an older TFLM than the
# host's. 15% (at least 2 KiB) covers the scratch of the corpus's conv layers. The compiled (aot)
# runtime's arena is the compiler's own plan, exact, so it gets no margin.
ARENA_MARGIN_FRACTION = 0.15
ARENA_MARGIN_MIN_BYTES = 2048


@dataclass
class FitReport:
    """Flash and RAM a model needs on a board against what the board leaves usable."""

    board: str
    flash_needed: int
    ram_needed: int
    flash_usable: int
    ram_usable: int
    flash_total: int
    ram_total: int
    flash_reserved: int
    ram_reserved: int
    flash_parts: dict[str, int] = field(default_factory=dict)
    ram_parts: dict[str, int] = field(default_factory=dict)
    margin_bytes: int = 0  # the TFLM arena margin counted in ram_needed (0: none)

    @property
    def flash_headroom(self) -> int:
        return self.flash_usable - self.flash_needed

    @property
    def ram_headroom(self) -> int:
        return self.ram_usable - self.ram_needed

    @property
    def fits(self) -> bool:
        return self.flash_headroom >= 0 and self.ram_headroom >= 0

    @property
    def verdict(self) -> str:
        """'fits', 'fits (tight)' or 'does not fit', saying when RAM counts the arena margin."""
        if not self.fits:
            base, notes = "does not fit", []
        else:
            tight = min(self.flash_headroom / self.flash_usable, self.ram_headroom / self.ram_usable) < TIGHT
            base, notes = "fits", ["tight"] if tight else []
        if self.margin_bytes:
            notes.append(f"with the {ARENA_MARGIN_FRACTION:.0%} arena margin")
        return f"{base} ({'; '.join(notes)})" if notes else base

    def to_dict(self) -> dict:
        return {
            "board": self.board,
            "verdict": self.verdict,
            "fits": self.fits,
            "margin_bytes": self.margin_bytes,
            "flash": self._mem("flash"),
            "ram": self._mem("ram"),
        }

    def _mem(self, kind: str) -> dict:
        g = lambda k: getattr(self, f"{kind}_{k}")  # noqa: E731
        return {
            "needed": g("needed"),
            "parts": dict(g("parts")),
            "usable": g("usable"),
            "total": g("total"),
            "reserved": g("reserved"),
            "headroom": g("headroom"),
            "used_fraction": round(g("needed") / g("usable"), 4),
        }

    def explain(self, kind: str) -> str:
        """'RAM: needs 93,456 B (arena 85,264 B + runtime 8,192 B) of 200,704 B usable ...'"""
        m = self._mem(kind)
        parts = " + ".join(f"{k} {fmt_bytes(v, kib=False)}" for k, v in m["parts"].items())
        head = m["headroom"]
        return (
            f"{kind.upper() if kind == 'ram' else kind.capitalize()}: needs {fmt_bytes(m['needed'])}"
            f"{f' ({parts})' if parts else ''} of {fmt_bytes(m['usable'])} usable on {self.board} "
            f"({fmt_bytes(m['total'])} minus {fmt_bytes(m['reserved'], kib=False)} reserved): "
            f"{'headroom' if head >= 0 else 'over by'} {fmt_bytes(abs(head))}"
        )

    def __str__(self) -> str:
        rows = []
        for kind in ("flash", "ram"):
            m = self._mem(kind)
            rows.append([kind, m["needed"], m["usable"], m["headroom"], f"{100 * m['used_fraction']:.1f}%"])
        return (
            table(
                ["memory", "needed B", "usable B", "headroom B", "used"],
                rows,
                title=f"Fit on {self.board}: {self.verdict}",
            )
            + "\n"
            + self.explain("flash")
            + "\n"
            + self.explain("ram")
        )

    def raise_if_not_fit(self) -> None:
        """BoardError with the numbers when the model does not fit."""
        if self.fits:
            return
        over = [self.explain(k) for k in ("flash", "ram") if getattr(self, f"{k}_headroom") < 0]
        raise BoardError(
            "Model does not fit " + self.board + ". " + "; ".join(over),
            "Prune or shrink the model, use --runtime aot, or pick a bigger board (tinyflow boards list).",
        )


def check_fit(
    board: Board | str,
    flash_needed: int,
    ram_needed: int,
    *,
    flash_parts: dict[str, int] | None = None,
    ram_parts: dict[str, int] | None = None,
) -> FitReport:
    """Compare what a model needs (flash: model + runtime, RAM: arena + runtime) with a board."""
    b = load_board(board)
    return FitReport(
        board=b.id,
        flash_needed=int(flash_needed),
        ram_needed=int(ram_needed),
        flash_usable=b.usable_flash_bytes,
        ram_usable=b.usable_ram_bytes,
        flash_total=b.flash_bytes,
        ram_total=b.ram_bytes,
        flash_reserved=b.reserved_flash_bytes,
        ram_reserved=b.reserved_ram_bytes,
        flash_parts=dict(flash_parts or {}),
        ram_parts=dict(ram_parts or {}),
    )


def arena_with_margin(measured_bytes: int) -> int:
    """The TFLM arena a firmware reserves for a host-measured arena: plus the margin, a 16-byte multiple."""
    margin = max(ARENA_MARGIN_MIN_BYTES, math.ceil(int(measured_bytes) * ARENA_MARGIN_FRACTION))
    return (int(measured_bytes) + margin + 15) // 16 * 16


def fit_model(
    board: Board | str,
    runtime: str,
    *,
    model_flash: int,
    ram: int,
    flash_label: str = "model",
    frontend=None,
) -> FitReport:
    """THE fit of a model on a board under `runtime`: what inspect, firmware generate and the simulators check.

    Args:
        model_flash: the model's bytes in flash (tflm: the .tflite; aot: the compiled weights).
        ram: tflm: the host-measured arena (the margin is added here, as the firmware reserves
            it); aot: the compiler's planned activation memory (exact, no margin).
        flash_label: how the flash part is named in the report.
        frontend: the model's front end footprint (anything with flash and ram bytes,
            tinyflow.export.frontend_tables.FrontendFootprint), or None: the raw window, its
            buffers and scratch count in RAM, its tables and code in flash.
    Raises:
        BoardError: unknown board, or no size estimate for `runtime` on it.
    """
    b = load_board(board)
    rt = b.runtime(runtime)
    if runtime == "tflm":
        reserved = arena_with_margin(ram)
        ram_parts = {"arena": int(ram), "arena margin": reserved - int(ram)}
    else:
        ram_parts = {"planned activations": int(ram)}
    ram_parts[f"{runtime} runtime"] = rt.ram_bytes
    flash_parts = {flash_label: int(model_flash), f"{runtime} runtime": rt.flash_bytes}
    if frontend is not None:
        flash_parts["front end"] = int(frontend.flash)
        ram_parts["front end"] = int(frontend.ram)
    fit = check_fit(b, sum(flash_parts.values()), sum(ram_parts.values()), flash_parts=flash_parts, ram_parts=ram_parts)
    fit.margin_bytes = ram_parts.get("arena margin", 0)
    return fit
