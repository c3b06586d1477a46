"""`tinyflow board serve PORT --listen HOST:PORT`: a board's serial port for others, over RFC 2217."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("board")
def board():
    """Share the board attached to this machine (serve it over RFC 2217)."""


@board.command("serve")
@click.argument("port")
@click.option("--listen", required=True, metavar="HOST:PORT", help="Address to listen on (port 0: any free port).")
@click.option(
    "--model",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The .tflite a simulated board (sim://host, sim://qemu-m4) is built for.",
)
@click.option("--baud", type=click.IntRange(min=300), help="Line rate of a device path (default the board's).")
def serve(port, listen, model, baud):
    """Serve PORT (a device path, a pyserial URL or sim://...) until interrupted.

    Others then use `--target rfc2217://HOST:PORT` with eval and profile. There is no
    authentication: listen on localhost or a trusted network.
    """
    import signal
    import threading

    from tinyflow.escaping import terminal_text
    from tinyflow.testing.board_server import BoardServer, open_served_port, parse_listen

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

    def tell(peer, error):
        if error:
            click.echo(f"Error: client {peer[0]}:{peer[1]} left: {terminal_text(error, 200)}.", err=True)

    try:
        server.serve(stop, on_client=tell)
    except KeyboardInterrupt:
        stop.set()
    finally:
        server.close()
