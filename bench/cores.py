"""Instructions per inference of the compiled runtime on every emulated Cortex-M core.

For every corpus model and every QEMU core (sim://qemu-m0, -m3, -m4, -m7, -m33, -m55, each on
the board it emulates, sim://qemu-m4 on its default nano33ble): build the firmware with the
core's kernels (portable on M0 and M3, the DSP variants elsewhere), run one random input twice
in the same emulator and report the instruction count (and whether the two runs agree), flash
and static RAM from the ELF, whether the outputs are identical to the TFLite Micro reference, and
the estimated latency at the board's clock. A model the machine cannot hold is reported as not
fitting, with the reason the build gave, before anything runs.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench.qemu import CORPUS, MODELS

CORES = ["qemu-m0", "qemu-m3", "qemu-m4", "qemu-m7", "qemu-m33", "qemu-m55"]
QUICK_MODELS = 3


def measure(model_path: Path, core: str) -> dict:
    """One core, one model: instructions (two runs of one input), memory, bit-exactness."""
    import numpy as np

    from tinyflow.errors import BoardError
    from tinyflow.runtimes import tflm
    from tinyflow.targets.client import DeviceClient
    from tinyflow.workflows.device import open_device
    from tinyflow.workflows.profile import random_inputs

    data = model_path.read_bytes()
    t0 = time.perf_counter()
    try:
        port = open_device(f"sim://{core}", model=data, timeout=60.0)
    except BoardError as exc:
        return {"fits": False, "reason": exc.message}
    try:
        client = DeviceClient(port, timeout=600.0)
        x = random_inputs(client.handshake(), np.random.default_rng(0))
        first, second = client.infer(x), client.infer(x)
        want = tflm.run(data, [x[0] if len(x) == 1 else x])[0]
        exact = [np.ascontiguousarray(o).tobytes() for o in first.outputs] == [
            np.ascontiguousarray(o).tobytes() for o in want
        ]
        machine, emu = port.machine, port.emulation
        n = machine.instructions(first.ticks)
        return {
            "fits": True,
            "instructions": n,
            "deterministic": n == machine.instructions(second.ticks),
            "exact": exact,
            "flash_bytes": emu.memory.flash_bytes,
            "ram_bytes": emu.memory.ram_bytes,
            "board": emu.board,
            "est_ms": 1e3 * machine.estimated_seconds(n, emu.clock_hz),
            "seconds": round(time.perf_counter() - t0, 1),
        }
    finally:
        port.close()


def run(quick: bool = False) -> dict:
    """Every model on every core (the first QUICK_MODELS with quick=True)."""
    out = {}
    for rel, _ in MODELS[:QUICK_MODELS] if quick else MODELS:
        path = CORPUS / rel
        if not path.exists():
            continue
        out[rel] = {core: measure(path, core) for core in CORES}
    return out


def markdown(results: dict) -> str:
    """Instructions per model (rows) and core (columns), then the memory and fit notes."""
    head = "| model | " + " | ".join(f"`{c}`" for c in CORES) + " |\n|---|" + "---:|" * len(CORES) + "\n"
    rows = []
    notes = []
    for rel, per_core in results.items():
        cells = []
        for core in CORES:
            r = per_core.get(core, {})
            if not r.get("fits"):
                cells.append("does not fit")
                notes.append(f"- `{Path(rel).stem}` on `{core}`: {r.get('reason', 'not run')}")
                continue
            flag = "" if r["exact"] and r["deterministic"] else (" (differs)" if not r["exact"] else " (varies)")
            cells.append(f"{r['instructions']:,}{flag}")
        rows.append(f"| {Path(rel).stem} | " + " | ".join(cells) + " |")
    body = head + "\n".join(rows) + "\n"
    body += (
        "\nInstructions of one inference (the same random input run twice in one emulator: equal on "
        "every cell unless marked *varies*; outputs identical to TFLite Micro unless marked *differs*). "
        "Kernels: portable C on M0 and M3, the DSP variants on M4, M7, M33 and M55.\n"
    )
    est = []
    for rel, per_core in results.items():
        cells = [
            f"{per_core[c]['est_ms']:.1f} ms @ {per_core[c]['board']}" if per_core.get(c, {}).get("fits") else "-"
            for c in CORES
        ]
        est.append(f"| {Path(rel).stem} | " + " | ".join(cells) + " |")
    body += "\nEstimated latency at the board's clock (uncalibrated outside the M4, docs/qemu.md):\n\n"
    body += head + "\n".join(est) + "\n"
    if notes:
        body += "\nNot run:\n\n" + "\n".join(notes) + "\n"
    return body


if __name__ == "__main__":
    import json
    import sys

    res = run(quick="--quick" in sys.argv)
    print(markdown(res))
    Path("/tmp/bench_cores.json").write_text(json.dumps(res, indent=1))
