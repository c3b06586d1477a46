"""The DSP-table flash budget follows the board the firmware is built for
(tinyflow.compile.context.board_table_flash), and the FULLY_CONNECTED head carries the
requantization flags the Cortex-M4 kernel used to rescan on every call."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from tinyflow.boards.catalog import load_board
from tinyflow.boards.fit import fit_model
from tinyflow.compile import compile_model
from tinyflow.compile.context import (
    DSP_TABLE_FLASH_BYTES,
    RUNTIME_FLASH_ESTIMATE,
    TABLE_FLASH_HEADROOM,
    TABLE_FLASH_MARGIN_BYTES,
    board_table_flash,
)
from tinyflow.compile.kernels import VARIANT_GUARDS
from tinyflow.compile.ops.fully_connected import (
    FC_FLAG_FAST,
    FC_FLAG_RIGHT_ONLY,
    FCQ_MAGIC,
    FCW_MAGIC,
    fcw_check,
    requant_flags,
)

AD = "mlperf_tiny/ad01_int8.tflite"


def _ad() -> bytes:
    from conftest import corpus_path

    return corpus_path(AD).read_bytes()


def test_the_budget_is_what_the_boards_flash_spares():
    big, small = load_board("nano33ble"), load_board("nucleo_f446re")
    big_usable, small_usable = 1_048_576 - 147_456, 524_288 - 24_576
    assert board_table_flash(big) == big_usable - 20_480 - math.ceil(big_usable * TABLE_FLASH_HEADROOM)
    assert board_table_flash(small) == small_usable - 20_480 - math.ceil(small_usable * TABLE_FLASH_HEADROOM)
    assert board_table_flash(small) <= DSP_TABLE_FLASH_BYTES < board_table_flash(big)
    assert board_table_flash(load_board("rpipico")) == 0  # no DSP extension: no tables at all
    assert board_table_flash(load_board("esp32dev")) == 0


def test_a_machine_budget_without_a_board_file_counts_the_runtime_estimate():
    from tinyflow.build.firmware import BoardBudget

    tiny = BoardBudget("tiny", 48e6, flash_bytes=64 << 10, ram_bytes=16 << 10)
    assert board_table_flash(tiny) == (64 << 10) - RUNTIME_FLASH_ESTIMATE - TABLE_FLASH_MARGIN_BYTES
    assert board_table_flash(BoardBudget("none", 48e6, flash_bytes=1024, ram_bytes=1024)) == 0


def _fc_weights(compiled) -> int:
    return sum(int(np.prod(compiled.model.tensors[op.inputs[1]].shape)) for op in compiled.model.ops)


def test_a_big_flash_board_gets_every_fc_table_a_small_one_fewer_and_both_fit():
    data = _ad()
    default = compile_model(data)
    by_board = {}
    for board_id in ("nano33ble", "nucleo_f446re", "nucleo_l4r5zi"):
        board = load_board(board_id)
        compiled = compile_model(data, table_flash=board_table_flash(board))
        fit = fit_model(board, "aot", model_flash=compiled.flash_constants(board.dsp), ram=compiled.plan.arena_bytes)
        assert fit.fits, (board_id, fit.verdict)
        assert "tight" not in fit.verdict, (board_id, fit.verdict)  # the tables leave the user's headroom
        assert len(data) + compiled.dsp_const_bytes <= board_table_flash(board)
        by_board[board_id] = compiled.dsp_const_bytes
    # Every layer with a block of 4 rows and 4 inputs: 2 bytes of table per weight (8x128 has all).
    assert by_board["nucleo_l4r5zi"] >= 2 * _fc_weights(default)  # 2 MB: every table
    # 1 MB: most of them, the rest of the budget is the user's headroom (TABLE_FLASH_HEADROOM)
    assert by_board["nucleo_f446re"] < by_board["nano33ble"] < by_board["nucleo_l4r5zi"]
    assert by_board["nucleo_f446re"] < by_board["nano33ble"] / 2
    assert by_board["nucleo_f446re"] <= default.dsp_const_bytes  # the old fixed budget was 448 KB


def test_no_table_budget_gives_the_flags_only_head():
    compiled = compile_model(_ad(), table_flash=0)
    assert compiled.dsp_const_bytes == 3 * 4 * len(compiled.op_names)  # magic, check, flags per layer


def test_the_qemu_build_compiles_with_the_boards_budget(monkeypatch):
    """sim://qemu-m4 (build_qemu_firmware) reaches compile with the board's budget, 0 for a core
    whose machine has no DSP kernels."""
    import tinyflow.compile as compile_pkg
    from tinyflow.workflows.device import build_qemu_firmware

    seen = []

    class Stop(Exception):
        pass

    def fake(*args, **kwargs):
        seen.append(kwargs.get("table_flash"))
        raise Stop

    monkeypatch.setattr(compile_pkg, "compile_model", fake)
    for board, machine_name in (("nano33ble", "qemu-m4"), ("nucleo_f446re", "qemu-m4"), (None, "qemu-m0")):
        from tinyflow.targets.sim import machine

        b = board or machine(machine_name).MACHINE.default_board
        with pytest.raises(Stop):
            build_qemu_firmware(b"model", b, machine_name=machine_name)
    assert seen == [board_table_flash(load_board("nano33ble")), board_table_flash(load_board("nucleo_f446re")), 0]


def test_the_platformio_project_and_inspect_use_the_boards_tables(tmp_path):
    from conftest import corpus_path
    from tinyflow.export.platformio import generate_project
    from tinyflow.inspection import _aot_memory

    data = _ad()
    big, small = (_aot_memory(data, measure_tflm=False, board=load_board(b)) for b in ("nano33ble", "nucleo_f446re"))
    assert big["dsp_weights_bytes"] > 2 * small["dsp_weights_bytes"] > 0
    tables = {}
    for board in ("nano33ble", "nucleo_f446re"):
        generate_project(corpus_path(AD), board, "aot", tmp_path / board)
        text = "".join(p.read_text() for p in (tmp_path / board / "lib/tinyflow_model/src").glob("*.c"))
        tables[board] = [h[0] for h in _heads(text)].count(_i32(FCW_MAGIC))
    assert 10 > tables["nano33ble"] > tables["nucleo_f446re"] > 0  # of 10 layers; the 1 MB board keeps headroom


def _heads(text: str) -> list[tuple[int, int, int]]:
    guard = re.escape(VARIANT_GUARDS["cortex_m4"])
    return [
        tuple(int(v) for v in t) for t in re.findall(r"#if " + guard + r"\n  ([-0-9]+), ([-0-9]+), ([-0-9]+)", text)
    ]


def _i32(v: int) -> int:
    return int(np.uint32(v).view(np.int32))


def test_requant_flags_follow_the_kernels_scans():
    assert requant_flags([1 << 30] * 3, [-1, -31, -5]) == FC_FLAG_FAST | FC_FLAG_RIGHT_ONLY
    assert requant_flags([0, 1 << 30], [0, -3]) == FC_FLAG_FAST | FC_FLAG_RIGHT_ONLY  # multiplier 0, shift 0
    assert requant_flags([1 << 30, 1 << 30], [0, -3]) == FC_FLAG_RIGHT_ONLY  # shift 0: exact path only
    assert requant_flags([1 << 30], [-32]) == 0
    assert requant_flags([1 << 30, 1 << 30], [1, -3]) == 0  # a left shift
    assert requant_flags([-(2**31)], [-3]) == 0


# (batches, depth, rows, weight scale): depths and row counts not multiples of 4, one-row and
# one-input layers, per-channel scales, and multipliers with a left shift (scale > 1) or shift 0
# ([0.5, 1)) that take the exact requantization instead of the fast one.
SHAPES = [
    (1, 37, 13, 0.01),
    (2, 6, 6, 0.02),
    (1, 47, 4, 0.6),  # shift 0: right-shift-only path, not the fast one
    (3, 19, 9, 0.004),
    (1, 64, 21, 6.0),  # a left shift: neither flag
    (1, 1, 5, 0.03),
    (2, 70, 1, 0.01),
    (1, 130, 11, "per-channel"),
]


def random_fc_model(seed: int = 11) -> bytes:
    from tinyflow.tflite.writer import ModelBuilder

    rng = np.random.default_rng(seed)
    mb, ins, outs = ModelBuilder(), [], []
    for batches, depth, rows, w_scale in SHAPES:
        scale = rng.uniform(0.002, 0.02, rows) if w_scale == "per-channel" else w_scale
        in_q, out_q = (0.05, int(rng.integers(-20, 20))), (0.05, int(rng.integers(-20, 20)))
        x = mb.tensor([batches, depth], "int8", scale=in_q[0], zero_point=in_q[1])
        data = rng.integers(-127, 128, (rows, depth), dtype=np.int8)
        zeros = [0] * rows if w_scale == "per-channel" else 0
        w = mb.tensor([rows, depth], "int8", scale=scale, zero_point=zeros, data=data)
        b_scale = np.asarray(scale) * in_q[0]
        bias = rng.integers(-3000, 3000, rows).astype(np.int32)
        b = mb.tensor([rows], "int32", scale=b_scale, zero_point=[0] * rows if np.ndim(b_scale) else 0, data=bias)
        y = mb.tensor([batches, rows], "int8", scale=out_q[0], zero_point=out_q[1])
        mb.op("FULLY_CONNECTED", [x, w, b], [y], fused_activation_function="RELU" if rows % 2 else "NONE")
        ins.append(x)
        outs.append(y)
    return mb.build(ins, outs)


def test_generated_heads_carry_magic_check_and_flags():
    heads = _heads(compile_model(random_fc_model()).sources["model.c"])
    assert [h[1] for h in heads] == [fcw_check(rows, depth) for _, depth, rows, _ in SHAPES]
    tabled = [rows >= 4 and depth >= 4 for _, depth, rows, _ in SHAPES]
    assert [h[0] for h in heads] == [_i32(FCW_MAGIC if t else FCQ_MAGIC) for t in tabled]
    assert [h[2] for h in heads] == [0 if s[3] == 6.0 else FC_FLAG_RIGHT_ONLY if s[3] == 0.6 else 3 for s in SHAPES]


@pytest.mark.arm
@pytest.mark.qemu
@pytest.mark.slow
@pytest.mark.parametrize("table_flash", [None, "mixed", 0])
def test_random_fc_shapes_are_bit_identical_to_tflm_on_qemu(table_flash):
    """Every layer tabled, some tabled and some not (a budget that runs out), none tabled."""
    from test_conv_m4_qemu import _feeds

    from conftest import require_tool
    from tinyflow.build import arm
    from tinyflow.runtimes import tflm
    from tinyflow.targets.client import DeviceClient
    from tinyflow.targets.machines import qemu_m4 as sim_qemu
    from tinyflow.tflite import read_model
    from tinyflow.workflows.device import build_qemu_firmware

    require_tool(arm.COMPILER)
    require_tool(sim_qemu.QEMU)
    model = random_fc_model()
    # "mixed": room for the first layer's table (13x37: 3 blocks x 9 words x 32 B) and the second's
    # (6x6: 32 B), not the third's (4x47: 11 words x 32 B); the layers after it have none.
    if table_flash == "mixed":
        table_flash = len(model) + 3 * 9 * 32 + 3 * 4 * len(SHAPES)
    compiled = compile_model(model, table_flash=table_flash)
    magics = [h[0] for h in _heads(compiled.sources["model.c"])]
    want_tables = {None: 6, 0: 0}.get(table_flash, 2)
    assert magics.count(_i32(FCW_MAGIC)) == want_tables
    m = read_model(model)
    samples = _feeds(m, np.random.default_rng(5))
    wants = tflm.run(model, samples)
    fw = build_qemu_firmware(compiled, "nano33ble", name="fc_random")
    with sim_qemu.QemuPort(fw.elf, timeout=20.0) as port:
        client = DeviceClient(port)
        client.handshake()
        for sample, want in zip(samples, wants):
            for k, (g, w) in enumerate(zip(client.infer(sample).outputs, want)):
                np.testing.assert_array_equal(np.asarray(g).ravel(), np.asarray(w).ravel(), err_msg=f"output {k}")


def test_interleaved_weights_keep_each_block_in_place():
    from tinyflow.compile.ops.fully_connected import fcw_interleave

    w = (np.arange(9 * 11).reshape(9, 11) % 251 - 125).astype(np.int8)  # 2 blocks + 1 row, 2 words + 3
    got = fcw_interleave(w)
    assert got.dtype == np.int8 and got.size == w.size
    for blk in range(2):
        part = got[blk * 44 : (blk + 1) * 44]
        for j in range(2):
            for r in range(4):
                assert list(part[16 * j + 4 * r : 16 * j + 4 * r + 4]) == list(w[4 * blk + r, 4 * j : 4 * j + 4])
        for r in range(4):
            assert list(part[32 + 3 * r : 32 + 3 * r + 3]) == list(w[4 * blk + r, 8:])
    assert list(got[88:]) == list(w[8])  # the row past the blocks keeps its order


def test_layers_without_a_table_read_interleaved_weights_unless_shared():
    from tinyflow.compile.ops.fully_connected import FC_FLAG_INTERLEAVED
    from tinyflow.tflite.writer import ModelBuilder

    heads = _heads(compile_model(random_fc_model(), table_flash=0).sources["model.c"])
    eligible = [rows >= 4 and depth >= 4 for _, depth, rows, _ in SHAPES]
    assert [bool(h[2] & FC_FLAG_INTERLEAVED) for h in heads] == eligible
    # Two layers reading one weight tensor: the portable order, for both.
    rng = np.random.default_rng(1)
    mb = ModelBuilder()
    x = mb.tensor([1, 8], "int8", scale=0.05, zero_point=0)
    w = mb.tensor([8, 8], "int8", scale=0.01, zero_point=0, data=rng.integers(-127, 128, (8, 8), dtype=np.int8))
    y1 = mb.tensor([1, 8], "int8", scale=0.05, zero_point=0)
    y2 = mb.tensor([1, 8], "int8", scale=0.05, zero_point=0)
    mb.op("FULLY_CONNECTED", [x, w, -1], [y1])
    mb.op("FULLY_CONNECTED", [y1, w, -1], [y2])
    text = compile_model(mb.build([x], [y2]), table_flash=0).sources["model.c"]
    assert [h[2] & FC_FLAG_INTERLEAVED for h in _heads(text)] == [0, 0]


def _ad_instructions(board: str) -> int:
    from test_conv_m4_qemu import _feeds

    from conftest import require_tool
    from tinyflow.build import arm
    from tinyflow.targets.client import DeviceClient
    from tinyflow.targets.machines import qemu_m4 as sim_qemu
    from tinyflow.tflite import read_model
    from tinyflow.workflows.device import build_qemu_firmware

    require_tool(arm.COMPILER)
    require_tool(sim_qemu.QEMU)
    data = _ad()
    fw = build_qemu_firmware(data, board, name="ad_budget")
    with sim_qemu.QemuPort(fw.elf, timeout=20.0) as port:
        client = DeviceClient(port)
        client.handshake()
        return sim_qemu.instructions(client.infer(_feeds(read_model(data), np.random.default_rng(3))[0]).ticks)


@pytest.mark.arm
@pytest.mark.qemu
@pytest.mark.slow
@pytest.mark.parametrize(("board", "ratio"), [("nano33ble", 0.60), ("nucleo_f446re", 0.67)])
def test_ad_instructions_against_tflm_cmsis_nn_on_each_board(board, ratio):
    """AD (ten FULLY_CONNECTED layers) within `ratio` of TFLM + CMSIS-NN's instructions: with every
    table on a 1 MB board, and with the interleaved int8 path where the tables do not fit
    (441,669 = 0.76x before both; bench/qemu.py holds the reference figure)."""
    from bench.qemu import TFLM_CMSIS_NN

    assert _ad_instructions(board) <= ratio * TFLM_CMSIS_NN["AD"]


def test_compile_with_a_board_follows_its_budget_and_without_keeps_the_default(tmp_path):
    from tinyflow.export.compiled_c import write_compiled_c

    data = _ad()
    tables = {}
    for board in (None, "nano33ble", "rpipico"):
        out = tmp_path / str(board)
        write_compiled_c(data, out, name="ad", board=board, tflm_arena=False)
        tables[board] = [h[0] for h in _heads((out / "ad.c").read_text())].count(_i32(FCW_MAGIC))
    default = compile_model(data, name="ad").sources["ad.c"]
    assert tables[None] == [h[0] for h in _heads(default)].count(_i32(FCW_MAGIC)) == 3  # the fixed 448 KB
    assert tables["nano33ble"] > 3 and tables["rpipico"] == 0  # the 1 MB board more; no DSP, no tables
