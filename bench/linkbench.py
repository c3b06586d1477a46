"""Link benchmark: what the streaming window gains over an emulated 115200-baud UART.

    python -m bench.linkbench [--baud 115200] [--samples 12]

Runs the real C core (host port, fake model with a fixed inference time) behind the baud-rate
throttle, for KWS-sized (490 B) and CIFAR-sized (3,072 B) inputs, with window 1 and window 4,
and prints payload bytes per second over the line rate (link efficiency) and samples per second.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tinyflow.build.host import build_host_firmware
from tinyflow.targets.client import DeviceClient
from tinyflow.targets.faults import ThrottledPort
from tinyflow.targets.machines.host import ProcessPort

CASES = [
    ("KWS 490 B", 490, 0),
    ("KWS 490 B", 490, 40_000),
    ("CIFAR 3,072 B", 3072, 0),
    ("CIFAR 3,072 B", 3072, 250_000),
]


def run_case(size: int, delay_us: int, window: int, baud: int, samples: int) -> dict:
    """One configuration: seconds, samples/s and payload efficiency."""
    exe = build_host_firmware(fake={"FAKE_IN0_BYTES": size, "FAKE_DELAY_US": delay_us})
    port = ThrottledPort(ProcessPort([exe], timeout=0.0), baud)
    port.timeout = 5.0
    try:
        client = DeviceClient(port, timeout=5.0)
        client.handshake()
        rng = np.random.default_rng(0)
        xs = [rng.integers(-128, 128, size, dtype=np.int8) for _ in range(samples)]
        list(client.infer_many(xs[:1], window=1))  # warm up (process start, first reply)
        t0 = time.monotonic()
        n = sum(1 for _ in client.infer_many(xs, window=window))
        seconds = time.monotonic() - t0
    finally:
        port.close()
    line = baud / 10
    return {"seconds": seconds, "samples_per_s": n / seconds, "efficiency": n * size / seconds / line}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--samples", type=int, default=12)
    args = ap.parse_args(argv)
    print("| input | inference | window 1: samples/s, efficiency | window 4: samples/s, efficiency | gain |")
    print("|---|---|---|---|---|")
    for label, size, delay in CASES:
        r1 = run_case(size, delay, 1, args.baud, args.samples)
        r4 = run_case(size, delay, 4, args.baud, args.samples)
        print(
            f"| {label} | {delay / 1000:.0f} ms | {r1['samples_per_s']:.2f}/s, {r1['efficiency']:.3f} | "
            f"{r4['samples_per_s']:.2f}/s, {r4['efficiency']:.3f} | x{r4['samples_per_s'] / r1['samples_per_s']:.2f} |"
        )


if __name__ == "__main__":
    main()
