"""memory_report: planned RAM, lower bound, flash measured for Cortex-M4, TFLM arena side by side."""

from __future__ import annotations

import shutil

import pytest

from conftest import corpus_path
from tinyflow.compile import memory_report
from tinyflow.export.compiled_c import measure_memory
from tinyflow.runtimes.tflm import measure_arena


def test_report_without_measurements_has_plan_figures():
    data = corpus_path("tflm/hello_world_int8.tflite").read_bytes()
    r = memory_report(data, name="hello")
    assert r.activation_bytes == 32 and r.lower_bound_bytes == 32  # two 16-wide int8 layers
    assert r.weights_bytes > 16 * 16 and r.flash_bytes is None and r.ram_vs_tflm is None
    assert r.to_dict()["ram_vs_lower_bound"] == 1.0
    assert "RAM / TFLM arena" in str(r)


def test_report_carries_the_figures_measured_elsewhere():
    data = corpus_path("tflm/hello_world_int8.tflite").read_bytes()
    r = memory_report(data, name="hello", tflm_arena_bytes=640, code_bytes=100, flash_bytes=900)
    assert (r.code_bytes, r.flash_bytes, r.tflm_arena_bytes) == (100, 900, 640)


def test_flash_is_measured_with_the_cortex_m4_kernel_variants(monkeypatch):
    """The Cortex-M4 flash figure is for the kernels a Cortex-M4 board runs (tinyflow.compile.kernels)."""
    import tinyflow.build.size

    seen = {}

    def fake_measure(sources, kernel_files, name, timeout=300):
        seen["kernels"] = [p.relative_to(p.parents[1]).as_posix() for p in kernel_files]
        return tinyflow.build.size.FlashSize(code_bytes=10, flash_bytes=20)

    monkeypatch.setattr(tinyflow.build.size, "measure_flash", fake_measure)
    r = measure_memory(corpus_path("mlperf_tiny/kws_ref_model.tflite").read_bytes(), name="kws")
    assert "cortex_m4/conv_2d.c" in seen["kernels"] and "cortex_m4/depthwise_conv_2d.c" in seen["kernels"]
    assert (r.code_bytes, r.flash_bytes) == (10, 20)
    assert measure_memory(corpus_path("mlperf_tiny/kws_ref_model.tflite").read_bytes(), flash=False).flash_bytes is None


@pytest.mark.arm
def test_report_measures_flash_and_tflm_arena():
    if shutil.which("arm-none-eabi-gcc") is None:
        from conftest import missing

        missing("tool 'arm-none-eabi-gcc'")
    data = corpus_path("mlperf_tiny/kws_ref_model.tflite").read_bytes()
    r = measure_memory(data, name="kws", tflm_arena_bytes=measure_arena(data).arena_bytes)
    assert r.tflm_arena_bytes > r.activation_bytes > 0
    assert r.ram_vs_tflm < 0.6 and r.ram_vs_lower_bound <= 1.05
    assert r.weights_bytes > 20_000  # KWS has ~23k int8 weights
    assert 0 < r.code_bytes < r.flash_bytes and r.flash_bytes >= r.weights_bytes
