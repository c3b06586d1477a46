"""Compiled runtime vs TFLite Micro on every corpus model: RAM, flash, host speed.

Ratios are measured side by side in one run. Compiled RAM is everything the firmware needs beyond
the stack: the static RAM (.data + .bss) of the Cortex-M4 object of model + kernels, i.e. the
planned arena plus the DSP kernels' static scratch (tinyflow.build.size); it is compared, total
and activations only, with TFLM's smallest working arena on this host
(tinyflow.runtimes.tflm.measure_arena) and with TFLM's arena_used_bytes() on a 32-bit Cortex-M4
(fixed reference figures, smaller than the host's). The planned arena is also compared with the
lower bound (largest live-tensor sum of the op order); and host inference time of the compiled C
(-O2, shared library) with the tflite_micro interpreter on the same informative input
(tinyflow.testing.agreement_inputs), after checking their outputs are identical.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "models"
MODELS = [
    "tflm/hello_world_int8.tflite",
    "tflm/micro_speech_quantized.tflite",
    "tflm/keyword_scrambled_8bit.tflite",
    "tflm/person_detect.tflite",
    "mlperf_tiny/kws_ref_model.tflite",
    "mlperf_tiny/vww_96_int8.tflite",
    "mlperf_tiny/pretrainedResnet_quant.tflite",
    "mlperf_tiny/ad01_int8.tflite",
]
# TFLM arena_used_bytes() measured on a 32-bit Cortex-M4 build (reference figures measured once, not rerun here).
DEVICE_TFLM = {
    "mlperf_tiny/kws_ref_model.tflite": 22772,
    "mlperf_tiny/pretrainedResnet_quant.tflite": 54340,
    "mlperf_tiny/vww_96_int8.tflite": 100660,
    "mlperf_tiny/ad01_int8.tflite": 2260,
    "tflm/person_detect.tflite": 82292,
}


def _time_per_run(fn, runs: int) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def _speed(data: bytes, compiled, runs: int) -> tuple[float, float, bool]:
    """(compiled s, tflite_micro s, outputs identical) per inference on one informative input."""
    from tflite_micro import runtime

    from tinyflow.runtimes.compiled import HostModel
    from tinyflow.testing.agreement_inputs import informative_inputs

    host = HostModel(compiled)
    interp = runtime.Interpreter.from_bytes(data, arena_size=4 << 20)
    xs = informative_inputs(data, count=1).samples[0]

    def tflm_once():
        for k, x in enumerate(xs):
            interp.set_input(x, k)
        interp.invoke()
        return [interp.get_output(k) for k in range(len(compiled.model.outputs))]

    same = all(np.array_equal(a.reshape(-1), b.reshape(-1)) for a, b in zip(host.run(*xs), tflm_once()))
    return _time_per_run(lambda: host.run(*xs), runs), _time_per_run(tflm_once, runs), same


def run(quick: bool = False) -> dict:
    """Measure every corpus model present; returns {"models": [row, ...]}."""
    from tinyflow.compile import compile_model
    from tinyflow.export.compiled_c import measure_memory
    from tinyflow.runtimes.tflm import measure_arena

    rows = []
    for rel in MODELS:
        path = CORPUS / rel
        if not path.exists():
            rows.append({"model": rel, "error": "missing"})
            continue
        data = path.read_bytes()
        compiled = compile_model(data, name=path.stem)
        tflm = measure_arena(data)
        rep = measure_memory(compiled, name=path.stem, tflm_arena_bytes=tflm.arena_bytes)
        runs = 3 if quick else (5 if len(data) > 100_000 else 20)
        t_aot, t_tflm, same = _speed(data, compiled, runs)
        device = DEVICE_TFLM.get(rel)
        rows.append(
            {
                "model": rel,
                "ops": rep.ops,
                "ram": rep.activation_bytes,
                "scratch": rep.scratch_bytes,
                "ram_total": rep.static_ram_bytes,
                "lower_bound": rep.lower_bound_bytes,
                "tflm_arena_host": rep.tflm_arena_bytes,
                "tflm_persistent_host": tflm.tail_bytes,
                "tflm_arena_m4": device,
                "ram_vs_tflm_host": rep.ram_vs_tflm,
                "total_vs_tflm_host": rep.total_ram_vs_tflm,
                "ram_vs_tflm_m4": rep.activation_bytes / device if device else None,
                "total_vs_tflm_m4": rep.static_ram_bytes / device if device and rep.static_ram_bytes else None,
                "ram_vs_lower_bound": rep.ram_vs_lower_bound,
                "weights": rep.weights_bytes,
                "code": rep.code_bytes,
                "flash": rep.flash_bytes,
                "model_bytes": len(data),
                "aot_ms": t_aot * 1e3,
                "tflm_ms": t_tflm * 1e3,
                "time_ratio": t_aot / t_tflm,
                "identical": same,
                "strategy": rep.planner_strategy,
            }
        )
    return {"models": rows}


def _fmt(v, spec: str = ",") -> str:
    return "n/a" if v is None else format(v, spec)


def markdown(results: dict) -> str:
    """The benchmark table for docs/benchmarks.md."""
    lines = [
        "| model | ops | compiled RAM total (B) = arena + kernel scratch | lower bound (B) | TFLM arena host (B) | "
        "of which persistent (B) | TFLM arena M4 (B) | total / TFLM M4 | activations / TFLM M4 (goal <= 0.6) | "
        "total / TFLM host | arena / lower bound (goal <= 1.05) | flash: weights + code (B) | "
        "host ms compiled / tflite_micro | time ratio | outputs identical |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|",
    ]
    for r in results.get("models", []):
        if "error" in r:
            lines.append(f"| {r['model']} | {r['error']} |" + " |" * 13)
            continue
        lines.append(
            f"| {Path(r['model']).stem} | {r['ops']} | {_fmt(r.get('ram_total'))} = {_fmt(r['ram'])} + "
            f"{_fmt(r.get('scratch'))} | {_fmt(r['lower_bound'])} | {_fmt(r['tflm_arena_host'])} | "
            f"{_fmt(r.get('tflm_persistent_host'))} | {_fmt(r['tflm_arena_m4'])} | {_fmt(r.get('total_vs_tflm_m4'), '.2f')} | "
            f"{_fmt(r['ram_vs_tflm_m4'], '.2f')} | {_fmt(r.get('total_vs_tflm_host'), '.2f')} | "
            f"{_fmt(r['ram_vs_lower_bound'], '.2f')} | {_fmt(r['weights'])} + {_fmt(r['code'])} | "
            f"{r['aot_ms']:.3f} / {r['tflm_ms']:.3f} | {r['time_ratio']:.2f} | {'yes' if r['identical'] else 'NO'} |"
        )
    lines += [
        "",
        "Compiled RAM total is everything the firmware needs beyond the stack, measured: the static RAM "
        "(.data + .bss) of a Cortex-M4 -O2 object of the generated C and its kernels (the Cortex-M4 DSP "
        "variants where they exist, as the board and sim://qemu-m4 build them; the protocol core and port "
        "excluded). It is one static arena planned by `tinyflow.compile.planner` plus the kernels' static "
        "scratch. The activations-only ratio compares the arena alone with TFLM's whole arena, which also "
        "holds TFLM's persistent structures (tensor structs, node and op data: the host's share is in the "
        "'persistent' column; 32-bit on the M4) that the compiled runtime keeps in flash as constants. "
        "The arena can be below the lower bound because conv, depthwise and pooling outputs may overlap "
        "their dying input (raster-order kernels). Flash is measured from the same object; code excludes "
        "the protocol core and port. Host time is the median of several single-sample invokes after one "
        "warm-up, on an informative input (tinyflow.testing.agreement_inputs).",
    ]
    return "\n".join(lines) + "\n"
