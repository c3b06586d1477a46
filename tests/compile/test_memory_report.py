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


@pytest.mark.firmware
def test_static_ram_counts_data_and_bss_not_code_or_constants(tmp_path):
    """The RAM figure is every writable allocated section (.data + .bss): a static scratch buffer
    and an initialised variable count, code and const tables do not."""
    import subprocess

    from tinyflow.build.size import section_sizes

    src = tmp_path / "k.c"
    src.write_text(
        "static signed char scratch[300];\nint counter = 5;\nconst int table[1000] = {1};\n"
        "signed char *buffer(void) { return scratch; }\nint touch(int i) { return counter + table[i]; }\n"
    )
    obj = tmp_path / "k.o"
    subprocess.run(["cc", "-c", "-O2", "-fno-common", "-fdata-sections", str(src), "-o", str(obj)], check=True)
    size = section_sizes(obj)
    assert 304 <= size.ram_bytes < 320 and size.flash_bytes >= 4000


def test_report_splits_total_ram_into_arena_and_kernel_scratch():
    data = corpus_path("tflm/hello_world_int8.tflite").read_bytes()
    r = memory_report(data, name="hello", tflm_arena_bytes=640, static_ram_bytes=32 + 1280)
    assert r.scratch_bytes == 1280 and r.total_ram_vs_tflm == (32 + 1280) / 640 and r.ram_vs_tflm == 32 / 640
    d = r.to_dict()
    assert d["static_ram_bytes"] == 1312 and d["scratch_bytes"] == 1280
    text = str(r)
    assert "RAM total (Cortex-M4 static)   1,312 B" in text and "kernel scratch + state" in text
    assert memory_report(data, name="hello").scratch_bytes is None  # not measured: never guessed


@pytest.mark.arm
def test_kernel_scratch_is_measured_from_the_cortex_m4_object():
    """KWS's Cortex-M4 conv kernels keep static scratch; the report's total is the arena plus exactly
    the static RAM of those kernel objects alone, whatever the kernels declare today."""
    if shutil.which("arm-none-eabi-gcc") is None:
        from conftest import missing

        missing("tool 'arm-none-eabi-gcc'")
    from tinyflow.build.size import measure_flash
    from tinyflow.compile import compile_model
    from tinyflow.compile.kernels import variant_for

    compiled = compile_model(corpus_path("mlperf_tiny/kws_ref_model.tflite").read_bytes(), name="kws")
    r = measure_memory(compiled, name="kws")
    kernels_only = measure_flash({}, compiled.kernel_sources(variant_for("cortex-m4", True)), "kws_kernels")
    assert r.scratch_bytes == kernels_only.ram_bytes > 0
    assert r.static_ram_bytes == r.activation_bytes + r.scratch_bytes  # KWS's arena is whole words
