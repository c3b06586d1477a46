"""Boards: every boards/*.toml loads and is consistent; fit verdicts; errors name what to do."""

from __future__ import annotations

import pytest

from tinyflow import boards
from tinyflow.boards import catalog, check_fit, list_boards, load_board
from tinyflow.errors import BoardError


def test_every_board_file_loads_and_is_consistent():
    found = list_boards()
    assert {"nano33ble", "esp32dev"} <= {b.id for b in found}
    for b in found:
        assert 0 < b.usable_flash_bytes < b.flash_bytes and 0 < b.usable_ram_bytes < b.ram_bytes
        assert b.cpu_hz >= 1_000_000 and b.baud > 0
        assert {"platform", "board", "framework"} <= set(b.platformio)
        assert "tflm" in b.runtimes and "aot" in b.runtimes
        assert b.to_dict()["usable_ram_bytes"] == b.usable_ram_bytes


def test_datasheet_numbers():
    nano, esp = load_board("nano33ble"), load_board("esp32dev")
    assert (nano.cpu_hz, nano.flash_bytes, nano.ram_bytes, nano.core) == (64_000_000, 1 << 20, 256 << 10, "cortex-m4f")
    assert nano.flash_bytes - 65_536 == 983_040  # the app links above the 64 KiB bootloader
    assert (0x2341, 0x805A) in nano.usb_ids
    assert (esp.cpu_hz, esp.flash_bytes, esp.ram_bytes) == (240_000_000, 4 << 20, 320 << 10)
    assert esp.usable_flash_bytes < 1_310_720  # the default partition table's app0
    assert esp.usable_ram_bytes < 0x2C200  # ESP-IDF caps static DRAM


def test_unknown_board_lists_known_ones():
    with pytest.raises(BoardError, match="Unknown board 'uno'.*nano33ble"):
        load_board("uno")
    with pytest.raises(BoardError, match="Unknown board"):
        load_board("../boards/nano33ble")


def test_fit_verdicts_and_headroom():
    nano = load_board("nano33ble")
    ok = check_fit(nano, 366_104, 93_456, ram_parts={"arena": 85_264, "tflm runtime": 8_192})
    assert ok.fits and ok.verdict == "fits"
    assert ok.ram_headroom == nano.usable_ram_bytes - 93_456
    assert "arena 85,264 B + tflm runtime 8,192 B" in str(ok)
    assert ok.to_dict()["ram"]["headroom"] == ok.ram_headroom
    ok.raise_if_not_fit()
    tight = check_fit(nano, 1000, nano.usable_ram_bytes - 100)
    assert tight.fits and tight.verdict == "fits (tight)"
    exact = check_fit(nano, nano.usable_flash_bytes, nano.usable_ram_bytes)
    assert exact.fits and exact.flash_headroom == 0
    over = check_fit("nano33ble", 1000, nano.usable_ram_bytes + 1)
    assert not over.fits and over.verdict == "does not fit" and over.ram_headroom == -1
    with pytest.raises(BoardError, match="RAM: needs .* over by 1 B"):
        over.raise_if_not_fit()


def test_runtime_estimate_lookup():
    nano = load_board("nano33ble")
    assert nano.runtime("tflm").flash_bytes > nano.runtime("aot").flash_bytes
    with pytest.raises(BoardError, match="no size estimate for runtime 'npu'"):
        nano.runtime("npu")


@pytest.mark.parametrize(
    "text, match",
    [
        ('id = "x"', "'name' must be str"),
        ("not toml [", "not valid TOML"),
    ],
)
def test_bad_board_files(tmp_path, monkeypatch, text, match):
    (tmp_path / "x.toml").write_text(text)
    monkeypatch.setattr(catalog, "boards_dir", lambda: tmp_path)
    with pytest.raises(BoardError, match=match):
        load_board("x")


def test_bad_board_values(tmp_path, monkeypatch):
    src = (boards.boards_dir() / "nano33ble.toml").read_text()
    monkeypatch.setattr(catalog, "boards_dir", lambda: tmp_path)
    (tmp_path / "other.toml").write_text(src)
    with pytest.raises(BoardError, match="has id 'nano33ble'"):
        load_board("other")
    (tmp_path / "nano33ble.toml").write_text(src.replace("reserved_ram_bytes = 61_440", "reserved_ram_bytes = 300_000"))
    with pytest.raises(BoardError, match="reserved_ram_bytes = 300000 is not below"):
        load_board("nano33ble")
    (tmp_path / "nano33ble.toml").write_text(src.replace('"2341:005a"', '"2341"'))
    with pytest.raises(BoardError, match="not VID:PID"):
        load_board("nano33ble")
    (tmp_path / "nano33ble.toml").write_text('flash_kind = "qspi"\n' + src)
    assert load_board("nano33ble").extra == {"flash_kind": "qspi"}


def test_one_fit_function_counts_the_tflm_arena_margin():
    esp = load_board("esp32dev")
    rt = esp.runtime("tflm")
    fit = boards.fit_model(esp, "tflm", model_flash=300_568, ram=85_264)
    assert fit.ram_parts == {
        "arena": 85_264,
        "arena margin": boards.arena_with_margin(85_264) - 85_264,
        "tflm runtime": rt.ram_bytes,
    }
    assert boards.arena_with_margin(85_264) == 98_064 and boards.arena_with_margin(100) == 2_160
    assert not fit.fits and fit.verdict == "does not fit (with the 15% arena margin)"
    assert "Fit on esp32dev: does not fit (with the 15% arena margin)" in str(fit)
    aot = boards.fit_model(esp, "aot", model_flash=1000, ram=85_264, flash_label="weights")
    assert aot.ram_parts == {"planned activations": 85_264, "aot runtime": esp.runtime("aot").ram_bytes}
    assert aot.verdict == "fits"  # the compiler's plan is exact: no margin


@pytest.mark.parametrize("runtime", ["tflm", "aot"])
def test_inspect_and_firmware_generate_agree_on_every_corpus_model_and_board(corpus_model, runtime):
    """What `inspect --board B --check` accepts is exactly what `firmware generate -b B` generates."""
    from tinyflow.errors import ModelError
    from tinyflow.export.platformio.project import plan_project
    from tinyflow.inspection import inspect_model

    for board in list_boards():
        try:
            fit = inspect_model(corpus_model, board=board.id, runtime=runtime).fit
        except ModelError:  # an op this runtime cannot run: firmware generate refuses it too
            with pytest.raises(ModelError):
                plan_project(corpus_model, board.id, runtime)
            continue
        try:
            generated = plan_project(corpus_model, board.id, runtime).fit
        except BoardError:
            generated = None
        except ModelError:  # refused for something other than the fit (inspect lists it too)
            continue
        assert fit.fits == (generated is not None), (board.id, str(fit))
        if generated is not None:
            assert generated.to_dict() == fit.to_dict(), board.id
