"""Instructions and estimated cycles per MAC, per op type and model, on sim://qemu-m4.

For KWS, IC, VWW, AD, person_detect and micro_speech: profile one inference on QEMU (exact
instructions per op from -icount; estimated cycles from the Cortex-M4 timing model applied to the
instruction mix, tinyflow/workflows/cycles.py) and divide by each op's MACs (tinyflow.analysis).
This is the instrument the kernel work of issue 18 reads: where the instructions and the cycles go.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "models"
BOARD = "nano33ble"
MODELS = [
    ("mlperf_tiny/kws_ref_model.tflite", "KWS"),
    ("mlperf_tiny/pretrainedResnet_quant.tflite", "IC"),
    ("mlperf_tiny/vww_96_int8.tflite", "VWW"),
    ("mlperf_tiny/ad01_int8.tflite", "AD"),
    ("tflm/person_detect.tflite", "person_detect"),
    ("tflm/micro_speech_quantized.tflite", "micro_speech"),
]
QUICK_MODELS = 2


def op_label(model, op) -> str:
    """The op type as the kernel work splits it: CONV_2D 1x1 and kxk apart."""
    if op.name == "CONV_2D" and len(op.inputs) > 1:
        shape = model.tensors[op.inputs[1]].shape  # [OC, KH, KW, IC]
        return "CONV_2D 1x1" if tuple(shape[1:3]) == (1, 1) else "CONV_2D kxk"
    return op.name


def measure(path: Path) -> dict:
    """Profile one inference; per op type: ops, MACs, instructions, estimated cycles."""
    from tinyflow.analysis import analyze
    from tinyflow.workflows.config import ProfileConfig
    from tinyflow.workflows.profile import profile_model

    analysis = analyze(path.read_bytes())
    model = analysis.model
    report = profile_model(ProfileConfig(path, target=f"sim://qemu-m4?board={BOARD}", runs=1, timeout=120.0))
    if len(report.ops) != len(model.ops) or any(op.cycles is None for op in report.ops):
        raise RuntimeError(f"the profile's {len(report.ops)} ops do not map onto the model's {len(model.ops)}")
    types: dict[str, dict] = defaultdict(lambda: {"ops": 0, "macs": 0, "instructions": 0, "cycles": 0})
    for op, info, row in zip(model.ops, analysis.ops, report.ops):
        t = types[op_label(model, op)]
        t["ops"] += 1
        t["macs"] += info.macs
        t["instructions"] += row.instructions
        t["cycles"] += row.cycles
    return {
        "instructions": report.instructions,
        "cycles": report.estimated_cycles,
        "cpi": report.estimated_cpi,
        "macs": analysis.macs,
        "types": dict(types),
        "classes": report.cycle_classes,
    }


def run(quick: bool = False) -> dict:
    """Measure every model (the first few with quick=True); a failure is recorded per model."""
    from tinyflow.errors import TinyflowError

    rows = []
    for rel, key in MODELS[:QUICK_MODELS] if quick else MODELS:
        row = {"model": rel, "key": key}
        try:
            row.update(measure(CORPUS / rel))
        except (TinyflowError, RuntimeError, OSError) as exc:
            row["error"] = f"{type(exc).__name__}: {exc}"
        rows.append(row)
    return {"board": BOARD, "rows": rows}


def _per(n: int, macs: int) -> str:
    return f"{n / macs:.2f}" if macs else "-"


def markdown(results: dict) -> str:
    from bench.qemu import TFLM_CMSIS_NN
    from tinyflow.targets.machines.cycles import DIVIDE, REFILL

    rows = [r for r in results["rows"] if "error" not in r]
    out = [
        f"Compiled runtime with the Cortex-M4 DSP kernels, firmware for `{results['board']}`, one inference on "
        "sim://qemu-m4. Instructions are exact (`-icount`); cycles are estimated by the Cortex-M4 timing model "
        f'applied to the executed instruction mix (docs/qemu.md, "Estimated cycles": zero wait states, pipeline '
        f"refill P = {REFILL}, divide = {DIVIDE}). MACs from the model's shapes (`tinyflow inspect`); pooling counts "
        "one operation per window element.",
        "",
        "| model | instructions | est. cycles | CPI | MACs | instructions/MAC | cycles/MAC | "
        "instructions vs TFLM + CMSIS-NN |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["rows"]:
        if "error" in r:
            out.append(f"| {r['key']} | failed: {r['error'][:160]} | | | | | | |")
            continue
        ref = TFLM_CMSIS_NN.get(r["key"])
        vs = f"{r['instructions'] / ref:.2f}x" if ref else "-"
        out.append(
            f"| {r['key']} | {r['instructions'] / 1e6:.3f} M | {r['cycles'] / 1e6:.3f} M | {r['cpi']:.2f} | "
            f"{r['macs'] / 1e6:.2f} M | {_per(r['instructions'], r['macs'])} | {_per(r['cycles'], r['macs'])} | {vs} |"
        )
    out += ["", *_pivot(rows), "", *_per_model(rows)]
    return "\n".join(out) + "\n"


def _pivot(rows: list) -> list[str]:
    """The issue's table: instructions/MAC (cycles/MAC) per op type and model."""
    types = sorted(
        {t for r in rows for t in r["types"]}, key=lambda t: -sum(r["types"].get(t, {}).get("cycles", 0) for r in rows)
    )
    out = [
        "### Instructions/MAC (est. cycles/MAC) per op type",
        "",
        "| op | " + " | ".join(r["key"] for r in rows) + " |",
        "|---|" + "---:|" * len(rows),
    ]
    for t in types:
        cells = []
        for r in rows:
            v = r["types"].get(t)
            cells.append(
                f"{_per(v['instructions'], v['macs'])} ({_per(v['cycles'], v['macs'])})" if v and v["macs"] else "-"
            )
        out.append(f"| {t} | " + " | ".join(cells) + " |")
    return out


def _per_model(rows: list) -> list[str]:
    out = ["### Per model and op type", ""]
    for r in rows:
        out += [
            f"**{r['key']}** ({r['model']})",
            "",
            "| op | ops | MACs | instructions | instructions/MAC | est. cycles | cycles/MAC | CPI | share of cycles |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        total = sum(v["cycles"] for v in r["types"].values()) or 1
        for t, v in sorted(r["types"].items(), key=lambda kv: -kv[1]["cycles"]):
            cpi = v["cycles"] / v["instructions"] if v["instructions"] else 0.0
            out.append(
                f"| {t} | {v['ops']} | {v['macs']:,} | {v['instructions']:,} | {_per(v['instructions'], v['macs'])} | "
                f"{v['cycles']:,} | {_per(v['cycles'], v['macs'])} | {cpi:.2f} | {v['cycles'] / total:.1%} |"
            )
        out.append("")
    return out
