"""`tinyflow boards list|show`: the boards in boards/*.toml."""

from __future__ import annotations

import click

from tinyflow.cli._common import emit


@click.group("boards")
def boards():
    """List and show supported boards (boards/*.toml; schema in docs/boards.md)."""


@boards.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the boards as JSON.")
def list_(as_json):
    """One line per board: clock, flash and RAM usable after what the core reserves."""
    from tinyflow.boards import list_boards
    from tinyflow.report import table

    found = list_boards()
    if as_json:
        from tinyflow.report import to_json

        click.echo(to_json([b.to_dict() for b in found]))
        return
    rows = [
        [
            b.id,
            b.name,
            b.core,
            b.cpu_hz / 1e6,
            b.usable_flash_bytes // 1024,
            b.flash_bytes // 1024,
            b.usable_ram_bytes // 1024,
            b.ram_bytes // 1024,
        ]
        for b in found
    ]
    click.echo(table(["id", "name", "core", "MHz", "flash KiB usable", "of", "RAM KiB usable", "of"], rows))


@boards.command("show")
@click.argument("board_id")
@click.option("--json", "as_json", is_flag=True, help="Print the board as JSON.")
def show(board_id, as_json):
    """Everything tinyflow knows about one board."""
    from tinyflow.boards import load_board

    emit(load_board(board_id), as_json)
