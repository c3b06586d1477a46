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
    stderr = ("ld: fw.elf section `.bss' will not fit in region `RAM'\n"
              "ld: region `RAM' overflowed by 1000 bytes\ncollect2: error: ld returned 1 exit status\n")
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
