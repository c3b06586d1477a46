"""Instructions per inference of the compiled runtime on sim://qemu-m4 (Cortex-M4F, mps2-an386).

For every corpus model: build the ARM firmware for the board, run it twice on QEMU (a fresh
emulator each time), and report the exact instruction count per inference (and whether the two
runs agree) with its range over AGREEMENT_SAMPLES inputs (data-dependent paths: requantization,
softmax), flash and static RAM from the ELF, the stack high-water mark, int8 agreement with the
TFLite Micro reference runtime over those inputs (informative ones: tinyflow.testing.agreement_inputs,
as bench/agreement.py), and the estimated latency on the board. Then compare with the
published MLPerf Tiny reference latencies (scaled to the board's clock) and with the speed goal
(instructions of TFLM + CMSIS-NN on the same emulated board).
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "models"
BOARD = "nano33ble"
REFERENCE_BOARD = "nucleo_l4r5zi"
MODELS = [
    ("tflm/hello_world_int8.tflite", None),
    ("tflm/micro_speech_quantized.tflite", "micro_speech"),
    ("tflm/keyword_scrambled_8bit.tflite", None),
    ("mlperf_tiny/ad01_int8.tflite", "AD"),
    ("mlperf_tiny/kws_ref_model.tflite", "KWS"),
    ("mlperf_tiny/pretrainedResnet_quant.tflite", "IC"),
    ("mlperf_tiny/vww_96_int8.tflite", "VWW"),
    ("tflm/person_detect.tflite", "person_detect"),
]
QUICK_MODELS = 4
# MLPerf Tiny v0.5 reference submission, STM32L4R5 (Cortex-M4F) at 120 MHz, TFLM + CMSIS-NN.
MLPERF_MS_AT_120MHZ = {"KWS": 181.9, "IC": 704.2, "VWW": 600.6, "AD": 10.05}
# Instructions per inference on mps2-an386, arm-none-eabi-gcc -O2 (reference figures measured once, not rerun here).
TFLM_REFERENCE = {"KWS": 200.1e6, "IC": 827.2e6, "VWW": 553.5e6, "AD": 1.95e6, "person_detect": 526.2e6}
# micro_speech: the sum of its ops' instructions (TFLM's per-op profile; the whole invoke adds TFLM's own overhead).
TFLM_CMSIS_NN = {
    "KWS": 7.70e6,
    "IC": 29.86e6,
    "VWW": 24.10e6,
    "AD": 0.583e6,
    "person_detect": 22.93e6,
    "micro_speech": 1.49e6,
}
# Estimated Cortex-M4 cycles of TFLM + CMSIS-NN on the same emulated board: the timing model of docs/qemu.md
# ("Estimated cycles") applied to the instruction mix of one Invoke() (micro_speech: the sum of its ops), recorded
# by the same QEMU plugin. Measured by hand on 2026-12-06 (docs/qemu.md, "TFLM + CMSIS-NN, by hand"); that build
# counted 0.99-1.07x the instructions above (bench/cycles.py TFLM_CMSIS_NN_HAND). Not rerun here.
TFLM_CMSIS_NN_CYCLES = {
    "KWS": 9_671_927,
    "IC": 40_053_994,
    "VWW": 31_290_987,
    "AD": 769_726,
    "person_detect": 29_418_214,
    "micro_speech": 2_322_615,
}
# Issue 18's goal per model: instructions <= this x TFLM + CMSIS-NN.
SPEED_GOAL = {"micro_speech": 1.0}
DEFAULT_SPEED_GOAL = 0.7
AGREEMENT_SAMPLES = 5


def measure(model_path: Path, board: str = BOARD, samples: int = AGREEMENT_SAMPLES, dsp: bool = True) -> dict:
    """One emulator run: instructions of the first inference, memory, agreement with TFLM.

    Args:
        dsp: Cortex-M4 DSP kernel variants (the default build) or the portable C kernels.
    """
    from tinyflow.targets.client import DeviceClient
    from tinyflow.targets.machines import qemu_m4 as sim_qemu
    from tinyflow.workflows.cycles import attach_mix
    from tinyflow.workflows.device import open_device
    from tinyflow.workflows.profile import _get

    data = model_path.read_bytes()
    t0 = time.perf_counter()
    url = "sim://qemu-m4" if dsp else "sim://qemu-m4?kernels=portable"
    port = open_device(url, model=data, board=board, timeout=30.0)
    build_s = time.perf_counter() - t0
    mix = attach_mix(port)  # the instruction mix, for the cycle model's estimated time
    try:
        client = DeviceClient(port)
        client.handshake()
        batches = _inputs(data, samples)
        t0 = time.perf_counter()
        results = [client.infer(x) for x in batches]
        wall = (time.perf_counter() - t0) / samples
        stats = client.stats()
        emu = port.emulation
        estimated_cpi = mix.finish().cpi if mix is not None else None
        return {
            "instructions": sim_qemu.instructions(int(_get(results[0], "ticks"))),
            "instructions_all": [sim_qemu.instructions(int(_get(r, "ticks"))) for r in results],
            "flash_bytes": emu.memory.flash_bytes,
            "ram_bytes": emu.memory.ram_bytes,
            "stack_high_water": _get(stats, "stack_high_water"),
            "arena_used": _get(stats, "arena_used"),
            "agreement": _agreement(data, batches, [_get(r, "outputs") for r in results]),
            "clock_hz": emu.clock_hz,
            "estimated_cpi": estimated_cpi,
            "build_and_boot_s": build_s,
            "wall_s_per_inference": wall,
        }
    finally:
        port.close()


@functools.lru_cache(maxsize=4)
def _inputs(model: bytes, count: int) -> list:
    """The informative inputs of `model` (seeded; the first is the same whatever `count`), chosen
    once per model for its three emulator runs."""
    from tinyflow.testing.agreement_inputs import informative_inputs

    return informative_inputs(model, count=count).samples


def _agreement(model: bytes, batches: list, outputs: list) -> float:
    """Fraction of inferences whose int8 outputs are identical to tflite_micro's."""
    import numpy as np

    from tinyflow.runtimes import tflm

    same = 0
    wants = tflm.run(model, [x[0] if len(x) == 1 else x for x in batches])
    for want, got in zip(wants, outputs):
        same += all(np.array_equal(np.asarray(w).ravel(), np.asarray(g).ravel()) for w, g in zip(want, got))
    return same / len(batches)


def run(quick: bool = False) -> dict:
    """Measure every corpus model (the first few with quick=True); a failure is recorded per model."""
    from tinyflow.errors import TinyflowError
    from tinyflow.targets.machines.qemu_m4 import CYCLES_PER_INSTRUCTION

    rows = []
    for rel, key in MODELS[:QUICK_MODELS] if quick else MODELS:
        row = {"model": rel, "key": key}
        try:
            first = measure(CORPUS / rel)
            second = measure(CORPUS / rel, samples=1)
            portable = measure(CORPUS / rel, dsp=False)
            row.update(
                first,
                repeat_instructions=second["instructions"],
                deterministic=second["instructions"] == first["instructions"],
                portable_instructions=portable["instructions"],
                portable_instructions_all=portable["instructions_all"],
                portable_agreement=portable["agreement"],
                portable_flash_bytes=portable["flash_bytes"],
            )
        except (TinyflowError, ImportError, OSError) as exc:
            row["error"] = f"{type(exc).__name__}: {exc}"
        rows.append(row)
    return {"board": BOARD, "cycles_per_instruction": CYCLES_PER_INSTRUCTION, "rows": rows}


def markdown(results: dict) -> str:
    cpi, board = results["cycles_per_instruction"], results["board"]
    out = [
        f"Compiled runtime, firmware linked for `{board}`, run on QEMU mps2-an386 with `-icount shift=7` "
        "(exact instruction counts; see docs/qemu.md). Estimated time = instructions x the CPI of the Cortex-M4 "
        'timing model on the executed instruction mix / board clock (zero wait states; docs/qemu.md, "Estimated '
        f"cycles\"; {cpi} CPI, calibrated on MLPerf Tiny's STM32L4R5 figures, where the model is missing). "
        "sim://qemu-m4 builds the Cortex-M4 DSP "
        "kernel variants (firmware/kernels/cortex_m4/) by default; the portable C kernels are measured side by "
        f"side. Instructions are the first input's; the range is over {AGREEMENT_SAMPLES} inputs chosen for "
        "informative TFLM outputs (not saturated, all distinct where the model allows: "
        "`tinyflow.testing.agreement_inputs`, the agreement section). Agreement: fraction of those inputs whose "
        "int8 outputs are identical to tflite_micro's.",
        "",
        f"| model | instructions (DSP) | range over {AGREEMENT_SAMPLES} inputs (DSP) | same on 2nd run | "
        "instructions (portable C) | DSP speed-up | "
        "agreement DSP / portable | flash (ELF) | static RAM | stack high-water | est. ms on " + board + " |",
        "|---|---:|---:|:---:|---:|---:|:---:|---:|---:|---:|---:|",
    ]
    for r in results["rows"]:
        if "error" in r:
            out.append(f"| {r['model']} | failed: {r['error'][:160]} | | | | | | | | | |")
            continue
        ms = 1e3 * r["instructions"] * (r.get("estimated_cpi") or cpi) / r["clock_hz"]
        out.append(
            f"| {r['model']} | {r['instructions']:,} | {_range(r.get('instructions_all'))} | "
            f"{'yes' if r['deterministic'] else 'NO'} | "
            f"{r['portable_instructions']:,} | {r['portable_instructions'] / r['instructions']:.2f}x | "
            f"{r['agreement']:.2f} / {r['portable_agreement']:.2f} | {r['flash_bytes']:,} B | "
            f"{r['ram_bytes']:,} B | {_b(r.get('stack_high_water'))} | {ms:.2f} |"
        )
    out += ["", *_speed_goal(results["rows"]), "", *_mlperf(results["rows"], cpi)]
    return "\n".join(out) + "\n"


def _range(values) -> str:
    """min-max of instruction counts, with the spread relative to the minimum."""
    if not values:
        return "n/a"
    lo, hi = min(values), max(values)
    return f"{lo:,}-{hi:,} (+{(hi - lo) / lo:.2%})" if lo else f"{lo:,}-{hi:,}"


def _b(n) -> str:
    return "n/a" if n is None else f"{n:,} B"


def _speed_goal(rows: list) -> list[str]:
    out = [
        "### Speed goal: instructions vs TFLM on the same emulated board",
        "Goal: compiled <= 0.7x the instructions of TFLM + CMSIS-NN on the MLPerf Tiny models and person_detect, "
        "<= 1.0x on micro_speech (against the sum of its ops). TFLM figures measured by hand once on the same board "
        "(arm-none-eabi-gcc -O2, mps2-an386), not rerun here.",
        "",
        "| model | compiled, DSP kernels | compiled, portable C | TFLM reference kernels | TFLM + CMSIS-NN | "
        "DSP / CMSIS-NN | goal | met |",
        "|---|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for r in rows:
        key = r.get("key")
        if key not in TFLM_CMSIS_NN or "error" in r:
            continue
        ratio = r["instructions"] / TFLM_CMSIS_NN[key]
        goal = SPEED_GOAL.get(key, DEFAULT_SPEED_GOAL)
        reference = f"{TFLM_REFERENCE[key] / 1e6:.1f} M" if key in TFLM_REFERENCE else "n/a"
        out.append(
            f"| {key} | {r['instructions'] / 1e6:.2f} M | {r['portable_instructions'] / 1e6:.2f} M | "
            f"{reference} | {TFLM_CMSIS_NN[key] / 1e6:.2f} M | {ratio:.2f}x | <= {goal:.1f}x | "
            f"{'yes' if ratio <= goal else 'no'} |"
        )
    return out


def _mlperf(rows: list, cpi: float) -> list[str]:
    out = [
        "### Against the MLPerf Tiny reference (STM32L4R5, TFLM + CMSIS-NN, 120 MHz)",
        "The reference latency scaled to the board's clock (x 120 MHz / clock) next to our estimate at the "
        "same clock. The ratio does not depend on the clock. Our estimate uses a CPI calibrated on these same "
        "reference figures, so for TFLM + CMSIS-NN it would reproduce them within the calibration spread "
        "(AD +37%, VWW -5%); the ratio therefore says how many fewer or more cycles the compiled runtime needs.",
        "",
        "| model | board | MLPerf ref scaled | our estimate | estimate / reference |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        key = r.get("key")
        if key not in MLPERF_MS_AT_120MHZ or "error" in r:
            continue
        # The run's board, and the reference's own board (STM32L4R5 on a Nucleo, 120 MHz).
        for board, clock in ((BOARD, r["clock_hz"]), (REFERENCE_BOARD, _clock(REFERENCE_BOARD))):
            ref = MLPERF_MS_AT_120MHZ[key] * 120e6 / clock
            est = 1e3 * r["instructions"] * cpi / clock
            out.append(f"| {key} | {board} @ {clock / 1e6:g} MHz | {ref:.1f} ms | {est:.1f} ms | {est / ref:.2f} |")
    return out


def _clock(board: str) -> float:
    from tinyflow.build.firmware import board_budget

    return board_budget(board).clock_hz
