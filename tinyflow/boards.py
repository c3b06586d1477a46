"""Boards from boards/*.toml (schema in docs/boards.md) and the check of a model against a board.

    from tinyflow.boards import load_board, list_boards, fit_model
    b = load_board("nano33ble")
    fit = fit_model(b, "tflm", model_flash=len(model_bytes), ram=measured_arena_bytes)
    fit.fits, fit.ram_headroom; print(fit); fit.raise_if_not_fit()

`fit_model` is THE fit check of a model on a board (inspect, firmware generate, sim://tflm and
profile all call it), so they cannot disagree; `check_fit` is its arithmetic.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyflow.errors import BoardError
from tinyflow.report import fmt_bytes, jsonable, table

_REQUIRED_INT = ("cpu_hz", "flash_bytes", "ram_bytes", "reserved_flash_bytes", "reserved_ram_bytes", "baud")
_REQUIRED_STR = ("id", "name", "mcu", "core")
TIGHT = 0.10  # less than this fraction of the usable memory left over: "fits (tight)"

# Why a margin on TFLM arenas: the arena is measured with the host's TFLM (64-bit pointers). On a
# 32-bit MCU the persistent tail (TfLiteTensor/TfLiteEvalTensor structs, node data) is smaller, so
# the host figure over-counts it; but optimized kernels (CMSIS-NN, ESP-NN) ask for scratch buffers
# (im2col) that the reference kernels do not, and the pinned library is an older TFLM than the
# host's. 15% (at least 2 KiB) covers the scratch of the corpus's conv layers. The compiled (aot)
# runtime's arena is the compiler's own plan, exact, so it gets no margin.
ARENA_MARGIN_FRACTION = 0.15
ARENA_MARGIN_MIN_BYTES = 2048


@dataclass(frozen=True)
class RuntimeEstimate:
    """What a runtime (tflm, aot) adds on top of the model in flash and the arena in RAM."""

    flash_bytes: int
    ram_bytes: int


@dataclass(frozen=True)
class Board:
    """One board; fields mirror the TOML keys (docs/boards.md)."""

    id: str
    name: str
    mcu: str
    core: str
    cpu_hz: int
    flash_bytes: int
    ram_bytes: int
    reserved_flash_bytes: int
    reserved_ram_bytes: int
    fpu: bool
    dsp: bool
    baud: int
    usb_ids: tuple[tuple[int, int], ...]
    platformio: dict[str, str]
    runtimes: dict[str, RuntimeEstimate]
    path: Path | None = None
    # Keys this version does not know, kept so a boards file written for a newer tinyflow still loads.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def usable_flash_bytes(self) -> int:
        return self.flash_bytes - self.reserved_flash_bytes

    @property
    def usable_ram_bytes(self) -> int:
        return self.ram_bytes - self.reserved_ram_bytes

    def runtime(self, name: str) -> RuntimeEstimate:
        """The size estimate of runtime `name` on this board."""
        if name not in self.runtimes:
            raise BoardError(
                f"Board {self.id} has no size estimate for runtime {name!r} (it has: "
                f"{', '.join(sorted(self.runtimes)) or 'none'})",
                f"Add a [runtime.{name}] table to {self.path or self.id + '.toml'}.",
            )
        return self.runtimes[name]

    def to_dict(self) -> dict:
        d = {
            k: getattr(self, k)
            for k in (
                "id",
                "name",
                "mcu",
                "core",
                "cpu_hz",
                "flash_bytes",
                "ram_bytes",
                "reserved_flash_bytes",
                "reserved_ram_bytes",
                "fpu",
                "dsp",
                "baud",
            )
        }
        d.update(
            usable_flash_bytes=self.usable_flash_bytes,
            usable_ram_bytes=self.usable_ram_bytes,
            usb_ids=[f"{v:04x}:{p:04x}" for v, p in self.usb_ids],
            platformio=dict(self.platformio),
            runtimes={k: jsonable(v) for k, v in self.runtimes.items()},
            **self.extra,
        )
        return d

    def __str__(self) -> str:
        rows = [
            ["name", self.name],
            ["mcu / core", f"{self.mcu} / {self.core}"],
            ["clock", f"{self.cpu_hz / 1e6:g} MHz"],
            ["fpu / dsp", f"{self.fpu} / {self.dsp}"],
            ["flash", fmt_bytes(self.flash_bytes)],
            ["  reserved", fmt_bytes(self.reserved_flash_bytes)],
            ["  usable", fmt_bytes(self.usable_flash_bytes)],
            ["ram", fmt_bytes(self.ram_bytes)],
            ["  reserved", fmt_bytes(self.reserved_ram_bytes)],
            ["  usable", fmt_bytes(self.usable_ram_bytes)],
            ["serial", f"{self.baud} baud, usb {', '.join(f'{v:04x}:{p:04x}' for v, p in self.usb_ids) or '-'}"],
            ["platformio", " ".join(f"{k}={v}" for k, v in self.platformio.items())],
        ]
        rows += [
            [f"runtime {k}", f"flash {fmt_bytes(v.flash_bytes)}, ram {fmt_bytes(v.ram_bytes)}"]
            for k, v in sorted(self.runtimes.items())
        ]
        return table(["board", self.id], rows)


def boards_dir() -> Path:
    from tinyflow.resources import boards_dir as _dir

    return _dir()


def list_boards() -> list[Board]:
    """Every board in boards/*.toml, sorted by id."""
    return [_parse(p) for p in sorted(boards_dir().glob("*.toml"))]


def load_board(board_id: str | Board) -> Board:
    """The board with this id (a Board passes through).

    Raises:
        BoardError: unknown id (the message lists the known ones) or an invalid board file.
    """
    if isinstance(board_id, Board):
        return board_id
    path = boards_dir() / f"{board_id}.toml"
    if not str(board_id).replace("_", "").replace("-", "").isalnum() or not path.exists():
        known = ", ".join(p.stem for p in sorted(boards_dir().glob("*.toml")))
        raise BoardError(f"Unknown board {board_id!r}", f"Known boards: {known}. Run `tinyflow boards list`.")
    return _parse(path)


def _parse(path: Path) -> Board:
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise BoardError(
            f"Board file {path.name} is not valid TOML: {exc}", "Fix the file (see docs/boards.md)."
        ) from None
    d = dict(raw)

    def need(key, kind):
        if not isinstance(d.get(key), kind) or isinstance(d.get(key), bool) and kind is int:
            raise BoardError(
                f"Board file {path.name}: {key!r} must be {kind.__name__}, got {d.get(key)!r}",
                "Fix the file (see docs/boards.md).",
            )
        return d.pop(key)

    values = {k: need(k, str) for k in _REQUIRED_STR}
    values.update({k: need(k, int) for k in _REQUIRED_INT})
    values.update(fpu=need("fpu", bool), dsp=need("dsp", bool))
    if values["id"] != path.stem:
        raise BoardError(
            f"Board file {path.name} has id {values['id']!r}", f"Rename the file or set id = {path.stem!r}."
        )
    for total, reserved in (("flash_bytes", "reserved_flash_bytes"), ("ram_bytes", "reserved_ram_bytes")):
        if not 0 <= values[reserved] < values[total]:
            raise BoardError(
                f"Board file {path.name}: {reserved} = {values[reserved]} is not below {total} = {values[total]}",
                "Fix the file (see docs/boards.md).",
            )
    usb = []
    for item in d.pop("usb_ids", []):
        try:
            vid, pid = (int(x, 16) for x in str(item).split(":"))
        except ValueError:
            raise BoardError(
                f"Board file {path.name}: usb id {item!r} is not VID:PID in hex", 'Write e.g. "2341:805a".'
            ) from None
        usb.append((vid, pid))
    runtimes = {}
    for name, est in dict(d.pop("runtime", {})).items():
        try:
            runtimes[name] = RuntimeEstimate(int(est["flash_bytes"]), int(est["ram_bytes"]))
        except (KeyError, TypeError, ValueError):
            raise BoardError(
                f"Board file {path.name}: [runtime.{name}] needs integer flash_bytes and ram_bytes",
                "Fix the file (see docs/boards.md).",
            ) from None
    return Board(
        **values, usb_ids=tuple(usb), platformio=dict(d.pop("platformio", {})), runtimes=runtimes, path=path, extra=d
    )


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


def fit_model(board: Board | str, runtime: str, *, model_flash: int, ram: int, flash_label: str = "model") -> FitReport:
    """THE fit of a model on a board under `runtime`: what inspect, firmware generate and the simulators check.

    Args:
        model_flash: the model's bytes in flash (tflm: the .tflite; aot: the compiled weights).
        ram: tflm: the host-measured arena (the margin is added here, as the firmware reserves
            it); aot: the compiler's planned activation memory (exact, no margin).
        flash_label: how the flash part is named in the report.
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
    fit = check_fit(b, sum(flash_parts.values()), sum(ram_parts.values()), flash_parts=flash_parts, ram_parts=ram_parts)
    fit.margin_bytes = ram_parts.get("arena margin", 0)
    return fit
