"""`tinyflow boards list|show|bench`: the boards in boards/*.toml, and one model on all of them."""

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


@boards.command("bench")
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option("--board", "-b", "board_ids", multiple=True, help="Only this board (repeatable; default: every board).")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def bench(model, board_ids, as_json):
    """MODEL x board: fit, flash, RAM, instructions on the emulated core, estimated latency at the board's clock."""
    from pathlib import Path

    from tinyflow.cli._common import rendering
    from tinyflow.workflows.boards_bench import bench_boards

    with rendering():
        report = bench_boards(model, name=Path(model).name, boards=list(board_ids) or None)
    emit(report, as_json)
