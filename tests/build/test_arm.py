"""arm-none-eabi builds for mps2_an386: ELF memory figures, board clamping, overflow errors, cache."""

from __future__ import annotations

import pytest

from conftest import require_tool
from tinyflow.build import arm
from tinyflow.errors import BoardError, ToolchainError

DATA_SRC = """
#include <stdint.h>
/* 4 KiB of initialised data: stored in flash, copied to RAM at reset. */
uint8_t tinyflow_test_table[4096] = {1, 2, 3};
uint8_t tinyflow_test_zeros[2048];
int main(void) {
  tinyflow_test_zeros[tinyflow_test_table[1]] = 1;
  return tinyflow_test_table[0] + tinyflow_test_zeros[2];
}
"""


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("TINYFLOW_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def test_linker_script_is_clamped_to_the_board_and_the_emulator():
    text = arm.MemoryMap(flash_bytes=1 << 20, ram_bytes=256 << 10, stack_bytes=8192).linker_script()
    assert "LENGTH = 1048576" in text and "LENGTH = 262144" in text and ". += 8192;" in text
    big = arm.MemoryMap(flash_bytes=16 << 20, ram_bytes=8 << 20).linker_script()
    assert f"LENGTH = {arm.FLASH_MAX}" in big and f"LENGTH = {arm.RAM_MAX}" in big


def test_overflow_message_becomes_board_error_with_numbers():
    stderr = (
        "ld: fw.elf section `.bss' will not fit in region `RAM'\n"
        "ld: region `RAM' overflowed by 1000 bytes\ncollect2: error: ld returned 1 exit status\n"
    )
    with pytest.raises(BoardError, match=r"263,144 B RAM \(including a 16,384 B stack\) but nano33ble has 262,144 B"):
        arm._raise_link_failure(stderr, arm.MemoryMap(1 << 20, 256 << 10, board="nano33ble"), "fw")


def test_other_link_failures_are_toolchain_errors():
    with pytest.raises(ToolchainError, match="undefined reference"):
        arm._raise_link_failure("main.c:(.text+0x4): undefined reference to `foo'\n", arm.MemoryMap(1, 1), "fw")


@pytest.mark.arm
def test_elf_memory_counts_data_in_flash_and_not_the_stack(tmp_path):
    require_tool(arm.COMPILER)
    src = tmp_path / "data_main.c"
    src.write_text(DATA_SRC)
    fw = arm.build_firmware([src], arm.MemoryMap(1 << 20, 256 << 10, stack_bytes=4096), name="data")
    mem = fw.memory
    assert mem.sections[".data"] == 4096 and mem.sections[".bss"] >= 2048
    assert mem.flash_bytes == mem.sections[".text"] + mem.sections.get(".ARM.exidx", 0) + 4096
    assert mem.ram_bytes == mem.sections[".data"] + mem.sections[".bss"]
    assert mem.stack_bytes == 4096
    assert fw.map_file.exists()


@pytest.mark.arm
def test_builds_are_cached_by_content(tmp_path):
    require_tool(arm.COMPILER)
    src = tmp_path / "data_main.c"
    src.write_text(DATA_SRC)
    memory = arm.MemoryMap(1 << 20, 256 << 10)
    first = arm.build_firmware([src], memory, name="data")
    stamp = first.elf.stat().st_mtime_ns
    assert arm.build_firmware([src], memory, name="data").elf.stat().st_mtime_ns == stamp
    src.write_text(DATA_SRC.replace("4096", "4100"))
    assert arm.build_firmware([src], memory, name="data").elf != first.elf


@pytest.mark.arm
def test_firmware_that_does_not_fit_fails_at_link_time(tmp_path):
    require_tool(arm.COMPILER)
    src = tmp_path / "data_main.c"
    src.write_text(DATA_SRC)
    with pytest.raises(BoardError, match=r"needs [\d,]+ B flash but tiny has 2,048 B"):
        arm.build_firmware([src], arm.MemoryMap(2048, 64 << 10, board="tiny"), name="data")


REQUANT_TEST_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include "tinyflow/kernels/common.h"
#include "requant.h"
static uint64_t s = 88172645463325252ull;
static uint32_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return (uint32_t)s; }
int main(void) {
  static const int32_t edges[] = {0, 1, -1, 2, -2, INT32_MAX, INT32_MIN, INT32_MIN + 1, INT32_MAX - 1, 1 << 30, -(1 << 30), (1 << 30) + 1, -(1 << 30) - 1, 12345, -12345};
  long bad = 0, n = 0;
  for (long i = 0; i < 1000000; ++i) {
    int32_t acc = (i & 3) == 0 ? edges[rnd() % 15] : (int32_t)rnd() >> (rnd() % 24);
    static const int32_t medges[] = {0, 1 << 30, (1 << 30) + 1, INT32_MAX, INT32_MAX - 1};
    int32_t mult = (i & 7) == 1 ? medges[rnd() % 5] : (int32_t)((1u << 30) + (rnd() & 0x3FFFFFFFu));
    int32_t shift = (int32_t)(rnd() % 62) - 31;
    if (shift > 30) shift = 30;
    int32_t o = (int32_t)(rnd() % 256) - 128;
    if (shift > 0 && (i & 1)) acc >>= 16; /* keep left shifts from always overflowing */
    int8_t want = tinyflow_requantize_s8(acc, mult, shift, o, -128, 127);
    int8_t got = tinyflow_m4_requantize_s8(acc, mult, shift, o, -128, 127);
    if (shift <= 0 && mult != INT32_MIN && tinyflow_m4_requantize_right_s8(acc, mult, shift, o, -128, 127) != want) {
      if (bad++ < 5) printf("right-only mismatch acc=%d mult=%d shift=%d\n", acc, mult, shift);
    }
    int32_t w2 = tinyflow_mbqm(acc, mult, shift), g2 = tinyflow_m4_rdivpot(tinyflow_m4_srdhm((int32_t)((uint32_t)acc << (shift > 0 ? shift : 0)), mult), shift > 0 ? 0 : -shift);
    ++n;
    if (want != got || w2 != g2) {
      if (bad++ < 5) printf("mismatch acc=%d mult=%d shift=%d: %d vs %d (%d vs %d)\n", acc, mult, shift, want, got, w2, g2);
    }
  }
  printf("%ld/%ld mismatches\n", bad, n);
  return bad != 0;
}
"""


@pytest.mark.firmware
def test_cortex_m4_requantize_equals_the_reference_on_a_million_values(tmp_path):
    """firmware/kernels/cortex_m4/requant.h is portable C: check it on the host against common.h."""
    import subprocess

    from tinyflow.build.cc import CBuild, build_executable
    from tinyflow.resources import firmware_dir

    require_tool("cc")
    src = tmp_path / "requant_test.c"
    src.write_text(REQUANT_TEST_C)
    exe = build_executable(
        CBuild(sources=[src], include_dirs=[firmware_dir() / "include", firmware_dir() / "kernels" / "cortex_m4"]),
        "requant_test",
    )
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "0/1000000 mismatches" in proc.stdout, proc.stdout
