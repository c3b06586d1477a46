"""The monitor mode's cost on sim://qemu-m4 (Cortex-M4F, mps2-an386): exact instructions per inference.

The firmware times its own monitor work (tinyflow_monitor_begin before an invoke, observe after
it: firmware/src/monitor.c adds the ticks it spends to the MONITOR reply), so one emulator run
gives both numbers: the model's instructions per inference (INFER's ticks) and the monitor's (its
ticks over the inferences observed). Ticks are exact instruction counts on this machine
(docs/qemu.md: 3.2 ticks per instruction). The goal: the monitor adds at most 2% per inference.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "models"
BOARD = "nano33ble"
GOAL = 0.02
INFERENCES = 3
MODELS = [
    "tflm/micro_speech_quantized.tflite",
    "mlperf_tiny/kws_ref_model.tflite",
    "mlperf_tiny/ad01_int8.tflite",
    "mlperf_tiny/pretrainedResnet_quant.tflite",
    "mlperf_tiny/vww_96_int8.tflite",
    "tflm/person_detect.tflite",
]
QUICK_MODELS = 2


def measure(data: bytes, name: str, inferences: int = INFERENCES) -> dict:
    """One emulator run: the model's and the monitor's instructions per inference."""
    import numpy as np

    from tinyflow.monitor.profile import DTYPE_NAMES
    from tinyflow.targets.client import DeviceClient
    from tinyflow.targets.machines import qemu_m4 as sim_qemu
    from tinyflow.workflows.device import open_device
    from tinyflow.workflows.profile import random_inputs

    port = open_device("sim://qemu-m4", model=data, board=BOARD, timeout=60.0)
    try:
        client = DeviceClient(port, timeout=60.0)
        info = client.handshake()
        client.monitor(reset=True)
        rng = np.random.default_rng(0)
        model = [sim_qemu.MACHINE.instructions(client.infer(random_inputs(info, rng)).ticks) for _ in range(inferences)]
        stats = client.monitor()
    finally:
        port.close()
    spec = info.inputs[0]
    monitor = sim_qemu.MACHINE.instructions(stats.ticks) / stats.windows
    return {
        "model": name,
        "input": f"{DTYPE_NAMES.get(spec.dtype, '?')} {list(spec.shape)}",
        "columns": len(stats.column_count),
        "model_instructions": int(np.median(model)),
        "monitor_instructions": monitor,
        "overhead": monitor / float(np.median(model)),
    }


def run(quick: bool = False) -> dict:
    rows = []
    for rel in MODELS[:QUICK_MODELS] if quick else MODELS:
        path = CORPUS / rel
        if path.exists():
            rows.append(measure(path.read_bytes(), Path(rel).stem))
    return {"board": BOARD, "goal": GOAL, "rows": rows}


def markdown(results: dict) -> str:
    lines = [
        f"Compiled runtime on sim://qemu-m4 (board {results['board']}), the default monitor build "
        "(64 feature columns, 16-bin histograms, at most 1,024 input rows sampled per inference). Instructions are exact (docs/qemu.md); the monitor "
        "counts its own (firmware/src/monitor.c), averaged over the inferences of one run.",
        "",
        "| model | input | columns tracked | model instructions | monitor instructions | overhead | within 2% |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        lines.append(
            f"| {r['model']} | {r['input']} | {r['columns']} | {r['model_instructions']:,} | "
            f"{r['monitor_instructions']:,.0f} | {100 * r['overhead']:.3f}% | "
            f"{'yes' if r['overhead'] <= results['goal'] else 'NO'} |"
        )
    return "\n".join(lines) + "\n"
