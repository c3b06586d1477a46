"""`tinyflow board serve PORT --listen HOST:PORT`: a board's serial port for others, over RFC 2217."""

from __future__ import annotations

from pathlib import Path

import click

DEFAULT_LISTEN = "127.0.0.1:2217"  # loopback: the server has no authentication (docs/ci.md)


@click.group("board")
def board():
    """Share the board attached to this machine (serve it over RFC 2217)."""


@board.command("serve")
@click.argument("port")
@click.option(
    "--listen",
    default=DEFAULT_LISTEN,
    show_default=True,
    metavar="HOST:PORT",
    help="Address to listen on (port 0: any free port). There is no authentication: an address other "
    "than loopback lets anyone on that network drive the board.",
)
@click.option(
    "--model",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The .tflite a simulated board (sim://host, sim://qemu-m4) is built for.",
)
@click.option("--baud", type=click.IntRange(min=300), help="Line rate of a device path (default the board's).")
def serve(port, listen, model, baud):
    """Serve PORT (a device path, a pyserial URL or sim://...) until interrupted.

    Others then use `--target rfc2217://HOST:PORT` with eval and profile. There is no
    authentication: it listens on 127.0.0.1 unless --listen says otherwise, and warns when the
    address is reachable from other machines; use one only on a trusted network.
    """
    import signal
    import threading

    from tinyflow.escaping import terminal_text
    from tinyflow.testing.board_server import BoardServer, is_loopback, open_served_port, parse_listen

    address = parse_listen(listen)
    served = open_served_port(port, model=model, baud=baud)
    try:
        server = BoardServer(served, address)
    except BaseException:
        served.close()
        raise
    stop = threading.Event()
    # SIGTERM (a CI runner stopping the job) ends the loop like Ctrl-C, so the board is closed.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    host, bound = server.address
    click.echo(f"Serving {terminal_text(port)} on rfc2217://{host}:{bound} (Ctrl-C to stop)")
    if not is_loopback(host):  # shown even with --quiet: it is about who can drive the board
        click.echo(
            f"Warning: rfc2217://{host}:{bound} is reachable from other machines and has no authentication: "
            "anyone who can connect can drive the board. Listen on 127.0.0.1 unless the network is trusted.",
            err=True,
        )

    def tell(peer, error):
        if error:
            click.echo(f"Error: client {peer[0]}:{peer[1]} left: {terminal_text(error, 200)}.", err=True)

    try:
        server.serve(stop, on_client=tell)
    except KeyboardInterrupt:
        stop.set()
    finally:
        server.close()
