"""A front end's memory counts in the board fit: the raw window, its buffers and scratch in RAM,
its tables and code in flash (firmware generate, inspect), from the generated plan's sizes."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import corpus_path, require_tool
from tinyflow.boards import fit_model, load_board
from tinyflow.errors import BoardError
from tinyflow.export.frontend_tables import C_FILE_COST, frontend_footprint, plan_footprint, render_pipeline_plan
from tinyflow.frontends import MfccConfig, MicroSpeechConfig, write_sidecar
from tinyflow.workflows.eval_data import TensorSpec

ROOT = Path(__file__).resolve().parents[2]
SPEC = TensorSpec("in", (1, 1960), np.dtype(np.int8), 0.1, -128)


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "kws.tflite"
    shutil.copyfile(corpus_path("tflm/micro_speech_quantized.tflite"), path)
    return path


def test_footprint_counts_the_plan_s_arrays():
    fp = frontend_footprint(MicroSpeechConfig(), SPEC)
    # raw window 16,000 int16 + 49 x 40 uint16 features + the 1,960-byte int8 input copy, at least
    assert fp.buffers >= 32000 + 3920 + 1960
    assert fp.scratch == sum(C_FILE_COST[f][1] for f in ("fft_q15.c", "fixed.c", "micro_speech.c", "pipeline.c"))
    assert 4000 < fp.tables < 8000 and fp.flash == fp.tables + fp.code and fp.ram == fp.buffers + fp.scratch
    # Twice the rows: twice the raw window and the features, same tables.
    longer = frontend_footprint(MicroSpeechConfig(), TensorSpec("in", (1, 3920), np.dtype(np.int8), 0.1, -128))
    assert longer.buffers - fp.buffers >= 32000 + 3920 and longer.tables == fp.tables
    assert frontend_footprint(None, SPEC) is None
    text = "static const int16_t a[10] = {0};\nstatic tinyflow_cpx16_t b[3];\nstatic const uint64_t c[2] = {0};\n"
    small = plan_footprint(text, MfccConfig())
    assert (small.tables, small.buffers) == (36, 12)


def test_fit_model_adds_the_front_end_to_both_memories():
    fp = frontend_footprint(MicroSpeechConfig(), SPEC)
    bare = fit_model("nano33ble", "aot", model_flash=20000, ram=10000)
    full = fit_model("nano33ble", "aot", model_flash=20000, ram=10000, frontend=fp)
    assert full.ram_needed - bare.ram_needed == fp.ram and full.ram_parts["front end"] == fp.ram
    assert full.flash_needed - bare.flash_needed == fp.flash and "front end" in full.explain("ram")


def test_firmware_generate_counts_the_front_end(model):
    from tinyflow.export.platformio.project import plan_project

    bare = plan_project(model, "nano33ble", "aot").fit
    write_sidecar(model, MicroSpeechConfig())
    fit = plan_project(model, "nano33ble", "aot").fit
    assert fit.ram_parts["front end"] > 32000  # the one-second raw window alone is 32,000 B
    assert fit.ram_needed - bare.ram_needed == fit.ram_parts["front end"]
    assert fit.flash_needed - bare.flash_needed == fit.flash_parts["front end"] > 4000
    # A board with room for the model but not for its raw window refuses it, naming the front end.
    b = load_board("nano33ble")
    room = bare.ram_needed + b.reserved_ram_bytes + 8192
    small = dataclasses.replace(b, id="small-ram", ram_bytes=room)
    write_sidecar(model, MicroSpeechConfig())
    with pytest.raises(BoardError, match="front end"):
        plan_project(model, small, "aot")
    (model.parent / (model.name + ".frontend.json")).unlink()
    assert plan_project(model, small, "aot").fit.fits


def test_inspect_counts_the_sidecar_s_front_end(model):
    from tinyflow.inspection import inspect_model

    bare = inspect_model(model, board="nano33ble", runtime="aot", arena=False).fit
    write_sidecar(model, MfccConfig())  # 1,960 = 196 rows of 10
    fit = inspect_model(model, board="nano33ble", runtime="aot", arena=False).fit
    assert fit.ram_needed - bare.ram_needed == fit.ram_parts["front end"] > 0


@pytest.mark.arm
def test_file_costs_match_the_arm_objects(tmp_path):
    """C_FILE_COST is what arm-none-eabi-size says of each object, within 10 % (or 64 B)."""
    from tinyflow.build.arm import CPU_FLAGS

    gcc, size = require_tool("arm-none-eabi-gcc"), require_tool("arm-none-eabi-size")
    for name, (code, scratch) in C_FILE_COST.items():
        src = ROOT / "firmware" / ("src" if name == "pipeline.c" else "frontends") / name
        obj = tmp_path / (name + ".o")
        cmd = [gcc, "-std=c99", "-O2", *CPU_FLAGS, f"-I{ROOT / 'firmware' / 'include'}", "-DTINYFLOW_FRONTEND_KIND=1"]
        subprocess.run([*cmd, "-c", str(src), "-o", str(obj)], check=True, timeout=120)
        text, data, bss = map(int, subprocess.run([size, str(obj)], capture_output=True, text=True).stdout.split()[6:9])
        assert abs(text - code) <= max(64, code // 10), (name, text, code)
        assert abs(data + bss - scratch) <= max(64, scratch // 10), (name, data + bss, scratch)


def test_plan_text_declares_what_the_footprint_counts():
    text = render_pipeline_plan(MicroSpeechConfig(), SPEC)
    assert "static int16_t tf_pipeline_raw[16000];" in text
    assert plan_footprint(text, MicroSpeechConfig()) == frontend_footprint(MicroSpeechConfig(), SPEC)


def _small_ram(ram_needed: int):
    """nano33ble with RAM for `ram_needed` + 8 KiB: room for the model, not for a raw window."""
    b = load_board("nano33ble")
    return dataclasses.replace(b, id="small-ram", ram_bytes=ram_needed + b.reserved_ram_bytes + 8192)


def test_sim_tflm_fit_counts_the_front_end(model):
    from tinyflow.runtimes.tflm import measure_arena
    from tinyflow.tflite import read_model, read_model_file
    from tinyflow.workflows.device import open_device

    m = read_model(read_model_file(model))
    bare = fit_model("nano33ble", "tflm", model_flash=model.stat().st_size, ram=measure_arena(m).arena_bytes)
    small = _small_ram(bare.ram_needed)
    open_device("sim://tflm", model=model, board=small).close()  # the bare model fits
    write_sidecar(model, MicroSpeechConfig())
    with pytest.raises(BoardError, match="front end"):
        open_device("sim://tflm", model=model, board=small)
    open_device("sim://tflm", model=model, board="nano33ble").close()  # with its front end on the real board


def test_qemu_pre_build_check_counts_the_front_end(model, monkeypatch):
    from tinyflow.build import arm
    from tinyflow.build.firmware import BoardBudget
    from tinyflow.compile import compile_model
    from tinyflow.tflite import read_model_file
    from tinyflow.workflows.device import build_qemu_firmware

    class Built(Exception):
        pass

    def build(*args, **kwargs):
        raise Built

    monkeypatch.setattr(arm, "build_firmware", build)
    arena = compile_model(read_model_file(model)).plan.arena_bytes
    stack = arm.MemoryMap(1, 1).stack_bytes
    budget = BoardBudget("small-ram", 64e6, 1 << 20, arena + stack + 8192)  # the model fits, its raw window not
    with pytest.raises(Built):
        build_qemu_firmware(model, budget)
    with pytest.raises(BoardError, match="micro_speech front end"):
        build_qemu_firmware(model, budget, frontend=MicroSpeechConfig())
    roomy = BoardBudget("roomy", 64e6, 1 << 20, arena + stack + 8192 + 60_000)
    with pytest.raises(Built):
        build_qemu_firmware(model, roomy, frontend=MicroSpeechConfig())
