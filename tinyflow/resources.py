"""Where the shipped firmware sources and board files are, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _find(package: str, folder: str) -> Path:
    # In a checkout (and an editable install) the folders sit beside the package; in a wheel
    # they are installed as the packages tinyflow._firmware and tinyflow._boards.
    beside = _HERE.parent / folder
    if beside.is_dir():
        return beside
    inside = _HERE / package.rsplit(".", 1)[-1]
    if inside.is_dir():
        return inside
    from tinyflow.errors import TinyflowError

    raise TinyflowError(
        f"The {folder}/ folder is missing from this tinyflow install",
        "Reinstall tinyflow (pip install --force-reinstall tinyflow).",
    )


def firmware_dir() -> Path:
    """The firmware/ folder: portable C sources, ports and project templates."""
    return _find("tinyflow._firmware", "firmware")


def boards_dir() -> Path:
    """The boards/ folder: one TOML file per board."""
    return _find("tinyflow._boards", "boards")
