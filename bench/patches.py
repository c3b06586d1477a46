"""Patch-based inference: activation RAM vs instructions on sim://qemu-m4 for the vision models.

For VWW and person_detect: compile with `--max-ram` at budgets from today's plan down to half of it
and the smallest reachable arena, run each firmware on QEMU (Cortex-M4 DSP kernels, exact
instruction counts), and check its outputs against the TFLite Micro reference on random inputs.
Each row: the stages chosen (ops and band rows), the planned arena, whether the input streams
(tinyflow.compile.stream: the ring of input rows it keeps instead of the whole input), the
firmware's static RAM (.data + .bss: arena, 1,024-byte receive buffer and the rest), instructions
per inference (streamed: the bands run while the input arrives are billed to the INFER), the ratio
to the unpatched build, flash growth, and whether every output was identical to TFLM.
"""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "models"
BOARD = "nano33ble"
MODELS = [("VWW", "mlperf_tiny/vww_96_int8.tflite"), ("person_detect", "tflm/person_detect.tflite")]
FRACTIONS = (1.0, 0.875, 0.75, 0.625, 0.5)  # of today's (unpatched) arena
SAMPLES = 3
GOAL_RAM, GOAL_INSTRUCTIONS = 0.5, 1.15  # issue 18: <= half the RAM for <= 15% more instructions


def measure(compiled, data: bytes, samples: int = SAMPLES) -> dict:
    """Instructions of the first inference on sim://qemu-m4, flash, and agreement with TFLM."""
    import numpy as np

    from tinyflow.runtimes import tflm
    from tinyflow.targets import open_target
    from tinyflow.targets.client import DeviceClient
    from tinyflow.targets.machines import qemu_m4 as sim_qemu
    from tinyflow.workflows.device import build_qemu_firmware
    from tinyflow.workflows.profile import _get, random_inputs

    firmware = build_qemu_firmware(compiled, BOARD)
    port = open_target("sim://qemu-m4", firmware=firmware, board=BOARD, timeout=60.0)
    try:
        client = DeviceClient(port)
        info = client.handshake()
        rng = np.random.default_rng(0)
        batches = [random_inputs(info, rng) for _ in range(samples)]
        results = [client.infer(x) for x in batches]
        flash, ram = port.emulation.memory.flash_bytes, port.emulation.memory.ram_bytes
    finally:
        port.close()
    wants = tflm.run(data, [x[0] if len(x) == 1 else x for x in batches])
    same = sum(
        all(np.array_equal(np.asarray(w).ravel(), np.asarray(g).ravel()) for w, g in zip(want, _get(r, "outputs")))
        for want, r in zip(wants, results)
    )
    counts = [sim_qemu.instructions(int(_get(r, "ticks"))) for r in results]
    return {
        "instructions": counts[0],
        "instructions_all": counts,
        "flash_bytes": flash,
        "ram_bytes": ram,
        "identical": same / samples,
    }


def _table_flash() -> int:
    """The DSP-table budget of BOARD, as sim://qemu-m4 and `firmware generate` compile for it."""
    from tinyflow.boards.catalog import load_board
    from tinyflow.compile.context import board_table_flash

    return board_table_flash(load_board(BOARD))


def _row(data: bytes, budget: int | None) -> dict:
    from tinyflow.compile import compile_model
    from tinyflow.errors import ModelError

    t0 = time.perf_counter()
    try:
        compiled = compile_model(data, name="model", max_ram=budget, table_flash=_table_flash())
    except ModelError as exc:
        return {"budget": budget, "unreachable": str(exc)}
    row = {
        "budget": budget,
        "compile_s": time.perf_counter() - t0,
        "stages": [(s.first, s.last, s.band_rows) for s in compiled.stages],
        "arena_bytes": compiled.plan.arena_bytes,
        "extra_calls": sum(s.extra_calls for s in compiled.schedules),
        "shifted_bytes": sum(s.shifted_bytes for s in compiled.schedules),
        "const_bytes": compiled.const_bytes,
        "stream_ring": compiled.stream_ring,
    }
    row.update(measure(compiled, data))
    # The unpatched build again, right after: kernels edited between two builds would otherwise
    # show up as a patch effect (the build cache makes this a rerun when nothing changed).
    row["unpatched"] = measure(compile_model(data, name="model", table_flash=_table_flash()), data, 1)
    return row


def _smallest(data: bytes) -> int:
    """The smallest arena --max-ram reaches (read from the error of an impossible budget)."""
    import re

    from tinyflow.compile import compile_model
    from tinyflow.errors import ModelError

    try:
        return compile_model(data, max_ram=1).plan.arena_bytes
    except ModelError as exc:
        return int(re.search(r"needs ([\d,]+) bytes", str(exc)).group(1).replace(",", ""))


def _inputs(data: bytes) -> list:
    from tinyflow.tflite import read_model

    m = read_model(data)
    return [m.tensors[i] for i in m.inputs]


def run(quick: bool = False) -> dict:
    """Every model at every budget (quick: half of today's arena and the smallest only)."""
    from tinyflow.compile import compile_model
    from tinyflow.errors import TinyflowError

    models = []
    for key, rel in MODELS:
        data = (CORPUS / rel).read_bytes()
        entry: dict = {"key": key, "model": rel, "rows": []}
        try:
            base = compile_model(data, name="model").plan.arena_bytes
            floor = _smallest(data)
            budgets = sorted({int(base * f) for f in FRACTIONS[(3 if quick else 0) :]} | {floor}, reverse=True)
            entry.update(base_arena=base, smallest=floor, unpatched=_row(data, None))
            entry["input_bytes"] = sum(int(m.nbytes) for m in _inputs(data))
            entry["rows"] = [_row(data, b) for b in budgets if b < base]
        except (TinyflowError, ImportError, OSError) as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
        models.append(entry)
    return {"board": BOARD, "samples": SAMPLES, "models": models}


def markdown(results: dict) -> str:
    out = [
        "`tinyflow compile --max-ram BYTES` (docs/compiled-runtime.md, section 'Patch-based inference') on sim://qemu-m4 "
        f"(board {results['board']}, Cortex-M4 DSP kernels): exact instructions of one inference, the planned "
        f"activation arena, and agreement with TFLite Micro on {results['samples']} random inputs. Stages are "
        "`first-last op / band rows`; no rows are recomputed (kept rows are shifted), so the extra instructions "
        "are the extra kernel calls and the shifted bytes. Flash and static RAM (.data + .bss: the arena, the "
        "1,024-byte receive buffer and everything else): the firmware's, vs the unpatched build. Each row's "
        "instruction ratio is against the unpatched build measured right after it. Input: `whole` (the link "
        "writes it into the arena) or `streamed, N B` (a budget the whole input cannot meet: the first stage "
        "takes it row by row into an N-byte ring as UPLOAD chunks arrive, docs/compiled-runtime.md 'Streamed "
        "input'; that work is counted in the instructions).",
        "",
    ]
    for m in results["models"]:
        out.append(f"### {m['key']} (`{m['model']}`)")
        out.append("")
        if "error" in m:
            out += [f"Not measured: {m['error']}", ""]
            continue
        base = m["unpatched"]
        out += [
            f"Unpatched: {m['base_arena']:,} B arena ({base['ram_bytes']:,} B static RAM), "
            f"{base['instructions'] / 1e6:.3f} M instructions; the input "
            f"alone is {m['input_bytes']:,} B. Smallest arena reachable with patches: {m['smallest']:,} B "
            f"({m['smallest'] / m['base_arena']:.2f}x).",
            "",
            "| budget (B) | stages | input | arena (B) | vs unpatched | static RAM (B) | instructions (M) "
            "| vs unpatched | extra calls | shifted (B) | flash (B) | identical to TFLM |",
            "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in m["rows"]:
            if "unreachable" in r:
                out.append(f"| {r['budget']:,} | unreachable | | | | | | | | | | |")
                continue
            stages = ", ".join(f"{a}-{b} / {h}" for a, b, h in r["stages"]) or "none"
            ring = r.get("stream_ring", 0)
            source = f"streamed, {ring:,} B" if ring else "whole"
            ram = f"{r['ram_bytes']:,} ({r['ram_bytes'] - r['unpatched']['ram_bytes']:+,})"
            out.append(
                f"| {r['budget']:,} | {stages} | {source} | {r['arena_bytes']:,} "
                f"| {r['arena_bytes'] / m['base_arena']:.2f}x | {ram} "
                f"| {r['instructions'] / 1e6:.3f} | {r['instructions'] / r['unpatched']['instructions']:.4f}x "
                f"| {r['extra_calls']} | {r['shifted_bytes']:,} | {r['flash_bytes'] - r['unpatched']['flash_bytes']:+,} "
                f"| {r['identical']:.0%} |"
            )
        out.append("")
        met = [
            r
            for r in m["rows"]
            if "arena_bytes" in r
            and r["arena_bytes"] <= GOAL_RAM * m["base_arena"]
            and r["instructions"] <= GOAL_INSTRUCTIONS * r["unpatched"]["instructions"]
        ]
        out.append(
            f"Goal (<= {GOAL_RAM}x the arena for <= {GOAL_INSTRUCTIONS}x the instructions): "
            + ("met." if met else "not met.")
        )
        out.append("")
    return "\n".join(out)
