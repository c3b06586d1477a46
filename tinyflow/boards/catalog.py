"""The boards: boards/*.toml (schema in docs/boards.md) loaded, checked and listed.

`load_board(id)` and `list_boards()` return `Board`s; a file with a missing or mistyped key, a
reserve larger than its memory, or an id unlike its file name is a BoardError saying what to fix.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyflow.errors import BoardError
from tinyflow.report import fmt_bytes, jsonable, table

_REQUIRED_INT = ("cpu_hz", "flash_bytes", "ram_bytes", "reserved_flash_bytes", "reserved_ram_bytes", "baud")
_REQUIRED_STR = ("id", "name", "mcu", "core")


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
