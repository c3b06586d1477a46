"""Agreement with TFLite Micro that means something: informative inputs, every intermediate tensor.

For every corpus model: choose SAMPLES inputs whose TFLM outputs are neither saturated nor all
alike (tinyflow.testing.agreement_inputs, seeded) and say how many distinct outputs they give,
next to what the same number of uniform random inputs (the old choice) gives; then compare every
op's output tensor of the compiled runtime (host build, its real memory plan, portable kernels)
with TFLM's for those inputs (tinyflow.runtimes.intermediates) and name the first that differs;
the same for the firmware with the Cortex-M4 DSP kernels on sim://qemu-m4, each op's outputs
written to a host file through semihosting (tinyflow.workflows.intermediates_qemu).
"""

from __future__ import annotations

import time
from pathlib import Path

from bench.memory import CORPUS, MODELS  # the same models, in the same order, as the memory section

SAMPLES = 5


def _uniform(data: bytes, model, count: int) -> tuple[int, float]:
    """(distinct TFLM outputs, mean saturated share) over `count` uniform random inputs (seed 0),
    the choice before."""
    import numpy as np

    from tinyflow.runtimes import tflm
    from tinyflow.testing.agreement_inputs import output_limits, saturation

    rng = np.random.default_rng(0)
    samples = []
    for _ in range(count):
        sample = []
        for i in model.inputs:
            t = model.tensors[i]
            info = np.iinfo(t.dtype)
            sample.append(rng.integers(info.min, info.max, size=t.shape, endpoint=True, dtype=t.dtype))
        samples.append(sample)
    outputs = tflm.run(data, samples)
    limits = output_limits(model, outputs)
    distinct = len({b"".join(np.ascontiguousarray(o).tobytes() for o in out) for out in outputs})
    return distinct, float(np.mean([saturation(out, limits)[0] for out in outputs]))


def measure(rel: str, samples: int = SAMPLES) -> dict:
    """One model: the chosen inputs and the intermediate-tensor comparison."""
    from tinyflow.compile import compile_model
    from tinyflow.runtimes.intermediates import compare_intermediates
    from tinyflow.testing.agreement_inputs import informative_inputs

    data = (CORPUS / rel).read_bytes()
    t0 = time.perf_counter()
    compiled = compile_model(data, name=Path(rel).stem)
    sel = informative_inputs(data, count=samples)
    report = compare_intermediates(compiled, sel.samples)
    dsp = _dsp_first_difference(compiled, sel.samples)
    distinct, saturated = _uniform(data, compiled.model, samples)
    return {
        "model": rel,
        "selection": sel.to_dict(),
        "uniform_distinct": distinct,
        "uniform_saturated": saturated,
        "intermediates": report.to_dict(),
        "first_difference": str(report.first_difference) if report.first_difference else None,
        "dsp_qemu": dsp,
        "seconds": time.perf_counter() - t0,
    }


def _dsp_first_difference(compiled, samples) -> dict:
    """The DSP-kernel firmware on sim://qemu-m4, op by op: {"ops_compared", "first_difference"} or {"error"}."""
    from bench.qemu import BOARD
    from tinyflow.errors import TinyflowError
    from tinyflow.workflows.intermediates_qemu import compare_intermediates_on_qemu

    try:
        report = compare_intermediates_on_qemu(compiled, samples, board=BOARD)
    except TinyflowError as exc:  # e.g. a model that does not fit the board: recorded, the host rows stand
        return {"error": f"{type(exc).__name__}: {exc}"}
    diff = report.first_difference
    return {"ops_compared": report.ops_compared, "first_difference": str(diff) if diff else None}


def _dsp_cell(d: dict | None) -> str:
    if not d:
        return ""
    if "error" in d:
        return _cell(f"failed: {d['error'][:160]}")
    return _cell(d["first_difference"]) or f"none: bit-exact ({d['ops_compared']} ops)"


def run(quick: bool = False) -> dict:
    """Every corpus model present (the first four with quick=True); a failure is recorded per model."""
    from tinyflow.errors import TinyflowError

    rows = []
    for rel in MODELS[:4] if quick else MODELS:
        if not (CORPUS / rel).exists():
            rows.append({"model": rel, "error": "missing"})
            continue
        try:
            rows.append(measure(rel))
        except (TinyflowError, OSError) as exc:
            rows.append({"model": rel, "error": f"{type(exc).__name__}: {exc}"})
    return {"samples": SAMPLES, "rows": rows}


def _cell(text: str | None) -> str:
    """A table cell from text carrying a model's tensor name (untrusted)."""
    from tinyflow.escaping import text_line

    return text_line(text).replace("|", "\\|") if text else ""


def markdown(results: dict) -> str:
    n = results["samples"]
    out = [
        f"{n} inputs per model, chosen from a seeded pool of candidates (uniform, zero-point-centred normals, "
        "a random sub-range, smooth low-frequency noise over the spatial axes) for TFLM outputs that are neither "
        "saturated (all values at the type's limits, or a one-hot probability) nor all alike "
        "(`tinyflow.testing.agreement_inputs.informative_inputs`; bench/qemu.py runs the same inputs on "
        "sim://qemu-m4). Every op's output tensor of the compiled runtime (host build, its real memory plan, "
        "read the moment the op finishes) is compared with TFLM's (`kPreserveAllTensors`) for those inputs; "
        "so is every op output of the firmware with the Cortex-M4 DSP kernels on sim://qemu-m4 (each op's "
        "outputs written to a host file through semihosting; `tinyflow.workflows.intermediates_qemu`).",
        "",
        f"| model | distinct outputs: chosen / {n} uniform random | saturated output values: chosen / uniform | "
        "informative (not saturated) | pool: distinct / candidates | families | ops compared | tensors compared | "
        "first difference | DSP kernels on sim://qemu-m4: first difference |",
        "|---|---:|---:|---:|---:|---|---:|---:|---|---|",
    ]
    for r in results["rows"]:
        if "error" in r:
            out.append(f"| {r['model']} | failed: {r['error'][:160]} | | | | | | | | |")
            continue
        s, i = r["selection"], r["intermediates"]
        out.append(
            f"| {Path(r['model']).stem} | {s['distinct_outputs']} / {r['uniform_distinct']} | "
            f"{sum(s['saturated_fraction']) / len(s['saturated_fraction']):.0%} / {r['uniform_saturated']:.0%} | "
            f"{s['informative']} of {s['count']} | {s['pool_distinct_outputs']} / {s['pool']} | "
            f"{', '.join(sorted(set(s['families'])))} | {i['ops_compared']} (+{i['ops_not_traced']} in patches) | "
            f"{i['tensors_compared']} x {i['samples']} | {_cell(r['first_difference']) or 'none: bit-exact'} | "
            f"{_dsp_cell(r.get('dsp_qemu'))} |"
        )
    out += [
        "",
        "A model whose every candidate gives the same output (informative 0) saturates inside whatever its "
        "input; its agreement says only that both runtimes saturate alike, and the intermediates carry the check.",
    ]
    return "\n".join(out) + "\n"
