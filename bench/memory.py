"""Compiled runtime vs TFLite Micro on every corpus model: activation RAM, flash, host speed.

Ratios are measured side by side in one run: the compiled model's planned arena against TFLM's
smallest working arena on this host (tinyflow.runtimes.tflm.measure_arena) and against TFLM's
arena_used_bytes() on a 32-bit Cortex-M4 (fixed reference figures, smaller than the host's);
the planned arena against the lower bound (largest live-tensor sum of the op order); and host
inference time of the compiled C (-O2, shared library) against the tflite_micro interpreter on
the same random inputs, after checking their outputs are identical.
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
    """(compiled s, tflite_micro s, outputs identical) per inference on one random input."""
    from tflite_micro import runtime

    from tinyflow.runtimes.compiled import HostModel

    host = HostModel(compiled)
    interp = runtime.Interpreter.from_bytes(data, arena_size=4 << 20)
    rng = np.random.default_rng(0)
    xs = []
    for i in compiled.model.inputs:
        t = compiled.model.tensors[i]
        info = np.iinfo(t.dtype)
        xs.append(rng.integers(info.min, info.max, size=t.shape, endpoint=True).astype(t.dtype))

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
        rep = measure_memory(compiled, name=path.stem, tflm_arena_bytes=measure_arena(data).arena_bytes)
        runs = 3 if quick else (5 if len(data) > 100_000 else 20)
        t_aot, t_tflm, same = _speed(data, compiled, runs)
        device = DEVICE_TFLM.get(rel)
        rows.append(
            {
                "model": rel,
                "ops": rep.ops,
                "ram": rep.activation_bytes,
                "lower_bound": rep.lower_bound_bytes,
                "tflm_arena_host": rep.tflm_arena_bytes,
                "tflm_arena_m4": device,
                "ram_vs_tflm_host": rep.ram_vs_tflm,
                "ram_vs_tflm_m4": rep.activation_bytes / device if device else None,
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
        "| model | ops | compiled RAM (B) | lower bound (B) | TFLM arena host (B) | TFLM arena M4 (B) | "
        "RAM / TFLM M4 (goal <= 0.6) | RAM / TFLM host | RAM / lower bound (goal <= 1.05) | flash: weights + code (B) | "
        "host ms compiled / tflite_micro | time ratio | outputs identical |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|",
    ]
    for r in results.get("models", []):
        if "error" in r:
            lines.append(f"| {r['model']} | {r['error']} |" + " |" * 11)
            continue
        lines.append(
            f"| {Path(r['model']).stem} | {r['ops']} | {_fmt(r['ram'])} | {_fmt(r['lower_bound'])} | "
            f"{_fmt(r['tflm_arena_host'])} | {_fmt(r['tflm_arena_m4'])} | {_fmt(r['ram_vs_tflm_m4'], '.2f')} | "
            f"{_fmt(r['ram_vs_tflm_host'], '.2f')} | {_fmt(r['ram_vs_lower_bound'], '.2f')} | "
            f"{_fmt(r['weights'])} + {_fmt(r['code'])} | {r['aot_ms']:.3f} / {r['tflm_ms']:.3f} | "
            f"{r['time_ratio']:.2f} | {'yes' if r['identical'] else 'NO'} |"
        )
    lines += [
        "",
        "Compiled RAM is one static arena planned by `tinyflow.compile.planner`; it can be below the "
        "lower bound because conv, depthwise and pooling outputs may overlap their dying input "
        "(raster-order kernels). Flash is measured from a Cortex-M4 -O2 object of the generated C "
        "and its kernels (the Cortex-M4 DSP variants where they exist, as the board and sim://qemu-m4 "
        "build them); code excludes the protocol core and port. Host time is the median of "
        "several single-sample invokes after one warm-up.",
    ]
    return "\n".join(lines) + "\n"
