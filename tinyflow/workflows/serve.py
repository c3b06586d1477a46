"""Serve a simulated DUT on a pseudo-terminal, for the MLPerf Tiny runner or any serial program.

    python -m tinyflow.workflows.serve [--tinyflow] [MODEL.tflite]

The host firmware is built for the model (as sim://host builds it, from the same URL options)
and left running on a pty whose path other programs open, close and reopen at will.
"""

from __future__ import annotations

from tinyflow.errors import UsageError
from tinyflow.targets.machines.host import PtyDevice
from tinyflow.workflows import device

DEFAULT_URL = "sim://host?protocol=eembc"


def serve(model=None, url: str = DEFAULT_URL) -> PtyDevice:
    """Build the host firmware for `model` with `url`'s options and start it on a pty (see .path).

    Args:
        model: the .tflite (bytes or path); None serves the fake model.
        url: a sim://host URL: ?protocol=eembc[&benchmark=kws01] speaks the MLPerf Tiny text protocol, ?fake=1 and
            ?sanitize=1 as for sim://host.
    Raises:
        UsageError: a URL that is not sim://host, or a bad option.
    """
    from tinyflow.targets import parse_sim_url

    name, params = parse_sim_url(url) if url.startswith("sim:") else (None, {})
    if name != "host":
        raise UsageError(f"Only sim://host can be served on a pseudo-terminal, not {url!r}", f"Use {DEFAULT_URL}.")
    options = device.host_options(params)
    options.fake = options.fake or model is None
    # Looked up at call time (not bound at import): the builder is the device module's, whatever
    # replaced it since (tests stub it; a stub must not outlive the test that set it).
    firmware = device.build_host_firmware(model, options, board=params.get("board"))
    return PtyDevice(firmware.path)


def main(argv=None) -> None:
    """`python -m tinyflow.workflows.serve [--tinyflow] [MODEL]`: serve a simulated DUT on a pty."""
    import argparse

    ap = argparse.ArgumentParser(
        description="Serve the host firmware on a pseudo-terminal for the "
        "MLPerf Tiny runner (EEMBC protocol) or any serial program."
    )
    ap.add_argument("model", nargs="?", help=".tflite file (default: the fake model)")
    ap.add_argument("--tinyflow", action="store_true", help="speak the tinyflow protocol instead of EEMBC")
    args = ap.parse_args(argv)
    with serve(args.model, "sim://host" if args.tinyflow else DEFAULT_URL) as dev:
        print(f"Simulated DUT on {dev.path} (Ctrl-C to stop)", flush=True)
        try:
            dev.wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
