"""Cost of the feature front ends on the emulated Cortex-M4F (QEMU mps2-an386, -icount).

Builds tests/frontends/bench_mps2.c with the C twins and the default plans (arm-none-eabi-gcc -O2,
the flags of tinyflow.build.arm), runs it once on QEMU, and reports instructions per second of
signal (exact: Timer0's 25 MHz virtual clock at 2**7 ns per instruction) and the estimated share
of a 64 MHz Cortex-M4 (nano33ble) at a 20 ms stride, with the project's calibrated 2.83 cycles
per instruction (docs/qemu.md) and, as a floor, at 1 cycle per instruction. It also checks that
the device's features hash to the same FNV-1a as numpy's on the same signal.

Run: `.venv/bin/python bench/frontends.py` (exposes run() and markdown() for `python -m bench`).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tinyflow.build.arm import CPU_FLAGS, LDFLAGS, MemoryMap, port_dir  # noqa: E402
from tinyflow.export.frontend_tables import render_imu, render_mfcc, render_micro_speech  # noqa: E402
from tinyflow.frontends import ImuConfig, MfccConfig, MicroSpeechConfig  # noqa: E402
from tinyflow.frontends.imu import imu_features  # noqa: E402
from tinyflow.frontends.mfcc import mfcc_features  # noqa: E402
from tinyflow.frontends.micro_speech import micro_speech_features  # noqa: E402

ICOUNT_SHIFT, TIMER_HZ = 7, 25_000_000
TICKS_PER_INSTRUCTION = (1 << ICOUNT_SHIFT) * TIMER_HZ / 1e9
CLOCK_HZ, CPI = 64e6, 2.83
SECONDS = {"micro_speech": 1.0, "mfcc": 1.0, "imu": 10.0}  # signal each front end gets in bench_mps2.c
SOURCES = ["fixed.c", "fft_q15.c", "micro_speech.c", "mfcc.c", "imu.c"]
TIMEOUT_S = 300


def lcg_signal(n: int, seed: int) -> np.ndarray:
    """bench_mps2.c's fill(): an LCG, top 16 bits, recentred, divided by 4 (C truncation)."""
    out, s = np.empty(n, dtype=np.int16), seed
    for i in range(n):
        s = (s * 1103515245 + 12345) & 0xFFFFFFFF
        out[i] = int(((s >> 16) - 32768) / 4)
    return out


def fnv(data: bytes) -> int:
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def host_hashes() -> dict[str, int]:
    audio = lcg_signal(16000, 1)
    imu = lcg_signal(1000 * 3, 2).reshape(1000, 3)
    return {
        "micro_speech": fnv(micro_speech_features(audio).astype("<u2").tobytes()),
        "mfcc": fnv(mfcc_features(audio).astype("<i2").tobytes()),
        "imu": fnv(imu_features(imu).astype("<i4").tobytes()),
    }


def build(folder: Path) -> Path:
    plans = {
        "ms_plan.c": render_micro_speech(MicroSpeechConfig()),
        "mfcc_plan.c": render_mfcc(MfccConfig()),
        "imu_plan.c": render_imu(ImuConfig()),
    }
    for name, text in plans.items():
        (folder / name).write_text(text)
    (folder / "link.ld").write_text(MemoryMap(flash_bytes=4 << 20, ram_bytes=4 << 20).linker_script())
    sources = [ROOT / "tests/frontends/bench_mps2.c", port_dir() / "startup.c", port_dir() / "semihost.c"]
    sources += [ROOT / "firmware/frontends" / s for s in SOURCES] + [folder / n for n in plans]
    elf = folder / "bench.elf"
    cmd = ["arm-none-eabi-gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", *CPU_FLAGS]
    cmd += [f"-I{ROOT / 'firmware/include'}", f"-I{port_dir()}", *map(str, sources), f"-T{folder / 'link.ld'}"]
    subprocess.run([*cmd, "-o", str(elf), *LDFLAGS], check=True, capture_output=True, text=True, timeout=TIMEOUT_S)
    return elf


def _qemu(elf: Path) -> subprocess.CompletedProcess:
    qemu = ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none", "-kernel", str(elf)]
    qemu += ["-icount", f"shift={ICOUNT_SHIFT},align=off", "-semihosting-config", "enable=on,target=native"]
    return subprocess.run(qemu, capture_output=True, text=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)


# -- the front end in application mode: pipeline.c at a stride, rows kept across windows ---------
STRIDE_ROWS = (1, 5, 25)  # bench_pipeline_mps2.c's strides, in front end steps (20 ms each)
# A model input of one second of features (49 rows), int8, as micro_speech_quantized.tflite's.
STRIDE_INPUT = {"micro_speech": (1, 1960), "mfcc": (1, 490)}


def build_pipeline(folder: Path, config) -> Path:
    """bench_pipeline_mps2.c + pipeline.c + the front end's C + its generated pipeline plan."""
    from tinyflow.export.frontend_tables import render_pipeline_plan
    from tinyflow.frontends.mapping import PIPELINE_KINDS
    from tinyflow.workflows.eval_data import TensorSpec

    shape = STRIDE_INPUT[config.name]
    (folder / "plan.c").write_text(render_pipeline_plan(config, TensorSpec("in", shape, np.dtype(np.int8), 0.1, -128)))
    (folder / "link.ld").write_text(MemoryMap(flash_bytes=4 << 20, ram_bytes=4 << 20).linker_script())
    sources = [ROOT / "tests/frontends/bench_pipeline_mps2.c", port_dir() / "startup.c", port_dir() / "semihost.c"]
    sources += [ROOT / "firmware/frontends" / s for s in ("fixed.c", "fft_q15.c", f"{config.name}.c")]
    sources += [ROOT / "firmware/src/pipeline.c", folder / "plan.c"]
    step = config.sample_rate * config.step_ms // 1000
    defines = [
        f"-DTINYFLOW_FRONTEND_KIND={PIPELINE_KINDS[config.name]}",
        f"-DSTEP={step}u",
        f"-DINPUT_BYTES={shape[1]}",
    ]
    elf = folder / "bench_pipeline.elf"
    cmd = ["arm-none-eabi-gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", *CPU_FLAGS, *defines]
    cmd += [f"-I{ROOT / 'firmware/include'}", f"-I{port_dir()}", *map(str, sources), f"-T{folder / 'link.ld'}"]
    subprocess.run([*cmd, "-o", str(elf), *LDFLAGS], check=True, capture_output=True, text=True, timeout=TIMEOUT_S)
    return elf


def run_strides(config) -> dict:
    """The front end's instructions per window at each stride (and per second of signal: 50 windows
    a second at 20 ms), its share of a 64 MHz M4, and whether the cached features equal a full run."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = _qemu(build_pipeline(Path(tmp), config))
    output = proc.stdout + proc.stderr
    full = re.search(r"full ticks=(\d+)", output)
    same = re.search(r"same=(\d)", output)
    rows = {int(r): (int(t), int(w)) for r, t, w in re.findall(r"stride=(\d+) ticks=(\d+) windows=(\d+)", output)}
    if full is None or same is None or set(rows) != set(STRIDE_ROWS):
        raise RuntimeError(f"bench_pipeline_mps2 printed {output!r} (exit {proc.returncode})")
    step_s = config.step_ms / 1000
    out = {"full_window": round(int(full.group(1)) / TICKS_PER_INSTRUCTION), "cached_equals_full": same.group(1) == "1"}
    for r, (ticks, windows) in sorted(rows.items()):
        per_window = ticks / TICKS_PER_INSTRUCTION / windows
        per_second = per_window / (r * step_s)
        out[f"stride_{r}"] = {
            "instructions_per_window": round(per_window),
            "instructions_per_second_of_signal": round(per_second),
            "share_of_64mhz_at_cpi_2_83": per_second * CPI / CLOCK_HZ,
            "share_of_64mhz_at_cpi_1": per_second / CLOCK_HZ,
        }
    return out


def run() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        proc = _qemu(build(Path(tmp)))
    output = proc.stdout + proc.stderr  # semihosting writes go to stderr
    hashes = host_hashes()
    results = {}
    for name, ticks, frames, digest, status in re.findall(
        r"(\w+) ticks=(\d+) frames=(\d+) fnv=(\d+) status=(\d+)", output
    ):
        instructions = int(ticks) / TICKS_PER_INSTRUCTION
        per_second = instructions / SECONDS[name]
        results[name] = {
            "frames": int(frames),
            "status": int(status),
            "instructions_per_second_of_signal": round(per_second),
            "instructions_per_frame": round(instructions / max(int(frames), 1)),
            "share_of_64mhz_at_cpi_2_83": per_second * CPI / CLOCK_HZ,
            "share_of_64mhz_at_cpi_1": per_second / CLOCK_HZ,
            "device_equals_host": int(digest) == hashes[name],
        }
    if set(results) != set(SECONDS):
        raise RuntimeError(f"bench_mps2 printed {output!r} (exit {proc.returncode}): {proc.stderr[-500:]}")
    for config in (MicroSpeechConfig(), MfccConfig()):
        results[config.name]["strides"] = run_strides(config)
    return results


def markdown(results: dict) -> str:
    lines = [
        "| front end | frames | instructions / s of signal | instructions / frame | share of 64 MHz M4 (CPI 2.83) | (CPI 1) | device = host |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['frames']} | {r['instructions_per_second_of_signal']:,} | {r['instructions_per_frame']:,} "
            f"| {100 * r['share_of_64mhz_at_cpi_2_83']:.2f} % | {100 * r['share_of_64mhz_at_cpi_1']:.2f} % "
            f"| {'yes' if r['device_equals_host'] else 'NO'} |"
        )
    return "\n".join(lines) + "\n\n" + markdown_strides(results)


def markdown_strides(results: dict) -> str:
    """Application mode: firmware/src/pipeline.c at a stride (rows of the previous window kept)."""
    lines = [
        "Application mode (pipeline.c + the int8 mapping, one second of features, a window every "
        "stride; rows the previous window computed are kept, `tests/frontends/bench_pipeline_mps2.c`):",
        "",
        "| front end | stride | instructions / window | instructions / s of signal "
        "| share of 64 MHz M4 (CPI 2.83) | (CPI 1) | cached = full |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in results.items():
        strides = r.get("strides")
        if not strides:
            continue
        same = "yes" if strides["cached_equals_full"] else "NO"
        lines.append(f"| {name} | whole window | {strides['full_window']:,} | | | | |")
        for rows in STRIDE_ROWS:
            s = strides[f"stride_{rows}"]
            lines.append(
                f"| {name} | {rows} x 20 ms | {s['instructions_per_window']:,} "
                f"| {s['instructions_per_second_of_signal']:,} | {100 * s['share_of_64mhz_at_cpi_2_83']:.2f} % "
                f"| {100 * s['share_of_64mhz_at_cpi_1']:.2f} % | {same} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(run()))
