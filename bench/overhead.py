"""Host overhead per sample on sim://tflm: what tinyflow adds around each TFLite Micro inference.

For a few corpus models, side by side in one run:
- `invoke`: the TFLM reference runtime alone (set input, invoke, get output), per sample;
- `link`: the same samples through DeviceClient -> protocol -> PythonDevice -> TFLM (window 4),
  in rounds alternating with `invoke`, the fastest round of each kept;
- `evaluate`: the whole `evaluate()` per sample (dataset, link, reference run, metrics), without
  and with the fsync'd resume journal (`--report DIR`).
Overhead = link - invoke: framing, CRC, COBS, the client's bookkeeping. A tiny model
(hello_world) shows the fixed cost; larger ones show it next to real work.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "models"
ROUNDS = 8
MODELS = ["tflm/hello_world_int8.tflite", "tflm/micro_speech_quantized.tflite", "mlperf_tiny/kws_ref_model.tflite"]


def _samples(model: bytes, n: int):
    import numpy as np

    from tinyflow.tflite import read_model

    m = read_model(model)
    t = m.tensors[m.inputs[0]]
    lim = np.iinfo(t.dtype)
    rng = np.random.default_rng(0)
    return [rng.integers(lim.min, int(lim.max) + 1, size=t.shape, dtype=t.dtype) for _ in range(n)]


def _invoker(model: bytes):
    """A function running the TFLM reference runtime alone on a batch; returns seconds per sample."""
    from tinyflow.targets.machines.tflm import TflmDevice

    rt = TflmDevice(model)

    def timed(samples) -> float:
        buffers = [[x.tobytes()] for x in samples]
        t0 = time.perf_counter()
        for b in buffers:
            rt.invoke(b)
        return (time.perf_counter() - t0) / len(samples)

    return timed


def _linker(client, window: int = 4):
    """A function streaming a batch through the client; returns seconds per sample."""

    def timed(samples) -> float:
        t0 = time.perf_counter()
        out = list(client.infer_many(samples, window=window))
        assert len(out) == len(samples)
        return (time.perf_counter() - t0) / len(samples)

    return timed


def _interleaved(model: bytes, samples, rounds: int) -> tuple[float, float]:
    """Best-of-rounds seconds per sample (invoke alone, through the link), rounds alternating.

    The machine is shared: alternating the two and keeping each one's fastest round compares
    them under the same load instead of whatever load each happened to get.
    """
    from tinyflow.targets import open_target
    from tinyflow.targets.client import DeviceClient

    port = open_target("sim://tflm", model=model)
    try:
        client = DeviceClient(port)
        client.handshake()
        invoke, link = _invoker(model), _linker(client)
        invoke(samples[:2]), link(samples[:2])  # warm up
        step = max(1, len(samples) // rounds)
        best_i, best_l = float("inf"), float("inf")
        for k in range(rounds):
            batch = samples[k * step : (k + 1) * step] or samples[:step]
            best_i = min(best_i, invoke(batch))
            best_l = min(best_l, link(batch))
        return best_i, best_l
    finally:
        port.close()


def _time_evaluate(path: Path, n: int, journal: bool) -> float:
    from tinyflow import EvalConfig, evaluate

    with tempfile.TemporaryDirectory(prefix="tinyflow-bench-") as tmp:
        t0 = time.perf_counter()
        r = evaluate(EvalConfig(path, dataset=f"random:{n}", target="sim://tflm", report_dir=tmp if journal else None))
        assert r.samples == n and r.link["lost"] == 0
        return (time.perf_counter() - t0) / n


def run(quick: bool = False) -> dict:
    n = 100 if quick else 400
    rows = []
    for rel in MODELS:
        path = CORPUS / rel
        if not path.exists():
            rows.append({"model": rel, "error": "not in the corpus"})
            continue
        model = path.read_bytes()
        samples = _samples(model, n)
        invoke, link = _interleaved(model, samples, ROUNDS)
        rows.append(
            {
                "model": rel,
                "samples": n,
                "invoke_us": 1e6 * invoke,
                "link_us": 1e6 * link,
                "overhead_us": 1e6 * (link - invoke),
                "evaluate_us": 1e6 * _time_evaluate(path, n, journal=False),
                "evaluate_journal_us": 1e6 * _time_evaluate(path, n, journal=True),
            }
        )
    return {"rows": rows}


def markdown(results: dict) -> str:
    out = [
        f"Microseconds of host time per sample. TFLM invoke and the link: the fastest of {ROUNDS} alternating "
        "rounds each (the machine is shared); evaluate(): one whole run divided by its samples.",
        "",
        "| model | samples | TFLM invoke | through the link (window 4) | link overhead | evaluate() | "
        "evaluate() + journal |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["rows"]:
        if "error" in r:
            out.append(f"| {r['model']} | {r['error']} | | | | | |")
            continue
        out.append(
            f"| {r['model']} | {r['samples']} | {r['invoke_us']:,.0f} | {r['link_us']:,.0f} | "
            f"**{r['overhead_us']:,.0f}** | {r['evaluate_us']:,.0f} | {r['evaluate_journal_us']:,.0f} |"
        )
    out += [
        "",
        "Link overhead = through the link - TFLM invoke: framing (COBS, CRC-32), the Python device and "
        "the client's bookkeeping. evaluate() adds the host reference run (a second TFLM invoke per "
        "sample), metrics and the report; the journal adds one fsync per sample.",
    ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(markdown(run(quick=True)))
