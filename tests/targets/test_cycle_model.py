"""The Cortex-M4 cycle model: Thumb-2 classes of known encodings, hand-counted sequences (pure and
on QEMU with the instruction-mix plugin), and the plugin's counts against -icount on a real model."""

from __future__ import annotations

import subprocess
from types import SimpleNamespace

import pytest

from tinyflow.targets.machines import cycles
from tinyflow.targets.machines.thumb import decode

# (little-endian bytes as QEMU reports them, class); assembled with arm-none-eabi-as -mcpu=cortex-m4.
ENCODINGS = [
    ("481c", "alu"),  # adds r0, r1, #1
    ("01eb8200", "alu"),  # add.w r0, r1, r2, lsl #2
    ("4843", "mul"),  # muls r0, r1
    ("01fb02f0", "mul"),  # mul.w r0, r1, r2
    ("01fb0230", "mla"),  # mla r0, r1, r2, r3
    ("01fb1230", "mla"),  # mls r0, r1, r2, r3
    ("21fb0230", "mac"),  # smlad r0, r1, r2, r3
    ("11fb0230", "mac"),  # smlabb r0, r1, r2, r3
    ("82fb0301", "mac"),  # smull r0, r1, r2, r3
    ("c2fb0301", "mac"),  # smlal r0, r1, r2, r3
    ("91fbf2f0", "div"),  # sdiv r0, r1, r2
    ("b1fbf2f0", "div"),  # udiv r0, r1, r2
    ("91fa02f0", "simd"),  # sadd16 r0, r1, r2
    ("2ffa81f0", "simd"),  # sxtb16 r0, r1
    ("21fa82f0", "simd"),  # sxtab16 r0, r1, r2
    ("a1fa82f0", "simd"),  # sel r0, r1, r2
    ("01f30700", "alu"),  # ssat r0, #8, r1
    ("c1ea0240", "alu"),  # pkhbt r0, r1, r2, lsl #16
    ("0868", "load"),  # ldr r0, [r1]
    ("d1f89001", "load"),  # ldr.w r0, [r1, #400]
    ("8858", "load"),  # ldr r0, [r1, r2]
    ("51f82200", "load"),  # ldr.w r0, [r1, r2, lsl #2]
    ("51f8040b", "load"),  # ldr.w r0, [r1], #4
    ("8856", "load"),  # ldrsb r0, [r1, r2]
    ("0298", "load"),  # ldr r0, [sp, #8]
    ("2c48", "load"),  # ldr r0, [pc, #176]
    ("0860", "store"),  # str r0, [r1]
    ("8850", "store"),  # str r0, [r1, r2]
    ("4870", "store"),  # strb r0, [r1, #1]
    ("d2e90001", "load_dual"),  # ldrd r0, r1, [r2]
    ("c2e90201", "store_dual"),  # strd r0, r1, [r2, #8]
    ("f2e80201", "load_dual"),  # ldrd r0, r1, [r2], #8
    ("0ec8", "load_multiple"),  # ldmia r0!, {r1, r2, r3}
    ("30b5", "store_multiple"),  # push {r4, r5, lr}
    ("30bd", "pop_pc"),  # pop {r4, r5, pc}
    ("2de9f041", "store_multiple"),  # push.w {r4-r8, lr}
    ("bde8f081", "pop_pc"),  # pop.w {r4-r8, pc}
    ("d0f800f0", "load_pc"),  # ldr.w pc, [r0]
    ("04e0", "branch"),  # b.n
    ("00f003b8", "branch"),  # b.w
    ("01d0", "branch_cond"),  # beq.n
    ("00f00080", "branch_cond"),  # beq.w
    ("08b1", "branch_cond"),  # cbz r0
    ("00f000f8", "branch"),  # bl
    ("7047", "branch_indirect"),  # bx lr
    ("9847", "branch_indirect"),  # blx r3
    ("f746", "branch_indirect"),  # mov pc, lr
    ("dfe800f0", "table_branch"),  # tbb [pc, r0]
    ("dfe810f0", "table_branch"),  # tbh [pc, r0, lsl #1]
    ("08bf", "it"),  # it eq
    ("00bf", "system"),  # nop
    ("bff35f8f", "system"),  # dmb sy
    ("40f2d240", "alu"),  # movw r0, #1234
    ("c1f38200", "alu"),  # ubfx r0, r1, #2, #3
    ("90ed000a", "fpu_load"),  # vldr s0, [r0]
    ("30ee810a", "fpu"),  # vadd.f32 s0, s1, s2
    ("00ee810a", "fpu_mac"),  # vmla.f32 s0, s1, s2
    ("80ee810a", "fpu_div"),  # vdiv.f32 s0, s1, s2
    ("b1eee00a", "fpu_div"),  # vsqrt.f32 s0, s1
    ("2ded048a", "fpu_multiple"),  # vpush {s16-s19}
    ("51e8000f", "load"),  # ldrex r0, [r1]
    ("90f800f0", "system"),  # pld [r0]
]


@pytest.mark.parametrize("raw,kind", ENCODINGS, ids=[f"{k}-{r}" for r, k in ENCODINGS])
def test_known_encodings_decode_to_their_timing_class(raw, kind):
    assert decode(bytes.fromhex(raw)).kind == kind


def test_load_store_details_that_pipelining_depends_on():
    ldr = decode(bytes.fromhex("51f82200"))  # ldr.w r0, [r1, r2, lsl #2]
    assert (ldr.rt, ldr.addr, ldr.reg_offset, ldr.writeback) == (0, {1, 2}, True, False)
    assert decode(bytes.fromhex("51f8040b")).writeback  # ldr.w r0, [r1], #4
    assert decode(bytes.fromhex("bde8f081")).regs == 6  # pop.w {r4-r8, pc}
    assert decode(bytes.fromhex("30b5")).regs == 3  # push {r4, r5, lr}


def _block(*raws: str) -> cycles.Block:
    return cycles.parse_block([f"{0x100 + 4 * i:x}:{r}" for i, r in enumerate(raws)])


def test_hand_counted_sequence_follows_the_trm_pairing_rules():
    b = _block(
        "0868",  # ldr r0, [r1]          2 (a block's first instruction pairs with nothing)
        "0a68",  # ldr r2, [r1]          1 (after a load, address independent of r0)
        "1068",  # ldr r0, [r2]          2 (its address is the register just loaded)
        "4c59",  # ldr r4, [r1, r5]      1
        "4e51",  # str r6, [r1, r5]      1 (a register-offset store after a load)
        "0f68",  # ldr r7, [r1]          2 (nothing pipelines after a store)
        "0f60",  # str r7, [r1]          1 (immediate-offset store: always one cycle)
        "d2e90001",  # ldrd r0, r1, [r2] 3
        "21fb0230",  # smlad             1
        "01fb0230",  # mla               2
        "08bf",  # it eq                 1 (not folded: see below)
    )
    assert b.cycles[:10] == [2, 1, 2, 1, 1, 2, 1, 3, 1, 2]
    assert b.cycles[10] == 1  # IT after a 32-bit instruction is not folded
    assert _block("0120", "08bf").cycles == [1, 0]  # IT after a 16-bit instruction is folded
    assert _block("30bd").cycles == [1 + 3 + cycles.REFILL]  # pop {r4, r5, pc}
    assert _block("0ec8").cycles == [1 + 3]  # ldmia r0!, {r1, r2, r3}


RECORDS = """\
T 0 100:0a25 102:0549 104:ffe7
T 1 106:0868 108:4a68 10a:20fb0233 10e:013d 110:f9d1
S -1 0 0 1 0
S 0 0 1 6 6
S 0 0 1 4 3
T 2 112:1820 114:0149 116:abbe
S 0 -1 2 1 0
"""


def test_records_sum_per_segment_with_taken_branches_and_per_function():
    symbols = [(0x100, 6, "reset"), (0x106, 0x20, "loop")]
    mix = cycles.read_mix(RECORDS, symbols)
    seg = mix.segments[0, 0]
    # loop body: ldr 2 + ldr 1 (pipelined) + smlad 1 + subs 1 + bne 1, 10 runs, 9 taken (+P each);
    # then the exit block: movs 1 + ldr 2 + bkpt 1.
    assert seg.instructions == 10 * 5
    assert seg.cycles == 10 * 6 + 9 * cycles.REFILL
    assert mix.segments[0, -1].cycles == 4  # closed by the exit
    assert mix.segments[-1, 0].cycles == 1 + 2 + (1 + cycles.REFILL)  # movs, ldr literal, b
    assert mix.functions[0, 0]["loop"].instructions == 50 and "reset" not in mix.functions[0, 0]
    assert seg.by_class["mac"] == [10, 10]


def test_a_record_cut_short_by_the_killed_emulator_is_ignored():
    for cut in ("T 3 118:0868 11a:4", "S 0 0 1 1"):
        assert cycles.read_mix(RECORDS + cut).segments[0, 0].instructions == 50


def test_a_malformed_record_is_a_link_error():
    from tinyflow.errors import LinkError

    with pytest.raises(LinkError, match="line 1"):
        cycles.read_mix("S 0 0 7 1 0\n")  # a block that was never translated


SEQUENCE = """\
.syntax unified
.cpu cortex-m4
.thumb
.section .vectors, "a"
.word 0x20008000
.word reset
.text
.thumb_func
reset:
  movs r5, #10
  ldr r1, =data
  b loop
.thumb_func
.global loop
loop:
  ldr r0, [r1]
  ldr r2, [r1, #4]
  smlad r3, r0, r2, r3
  subs r5, #1
  bne loop
  movs r0, #0x18
  ldr r1, =0x20026
  bkpt 0xab
.ltorg
.align 2
data:
.word 0x00010002, 0x00030004
"""


def _arm_gcc(tmp_path, name: str, source: str, *flags: str):
    from conftest import require_tool

    gcc = require_tool("arm-none-eabi-gcc")
    src = tmp_path / name
    src.write_text(source)
    elf = tmp_path / (src.stem + ".elf")
    subprocess.run([gcc, "-mcpu=cortex-m4", "-mthumb", *flags, str(src), "-o", str(elf)], check=True)
    return elf


@pytest.mark.firmware
@pytest.mark.arm
@pytest.mark.qemu
def test_plugin_counts_a_hand_counted_loop_on_qemu(tmp_path, monkeypatch):
    from conftest import require_tool
    from tinyflow.targets.machines.qemu import symbol_address
    from tinyflow.workflows.cycles import plugin_path

    require_tool("qemu-system-arm")
    monkeypatch.setenv("TINYFLOW_CACHE", str(tmp_path / "cache"))
    flags = ("-nostdlib", "-nostartfiles", "-Wl,--section-start=.vectors=0", "-Wl,-Ttext=0x100", "-Wl,-e,0x100")
    elf = _arm_gcc(tmp_path, "seq.s", SEQUENCE, *flags)
    loop = symbol_address(elf, "loop") & ~1
    out = tmp_path / "mix.txt"
    cmd = ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "null"]
    cmd += ["-kernel", str(elf), "-icount", "shift=7", "-semihosting-config", "enable=on,target=native"]
    cmd += ["-plugin", f"{plugin_path()},out={out},mark={loop:#x}"]
    subprocess.run(cmd, check=True, timeout=60)
    mix = cycles.read_mix(out.read_text(), cycles.function_symbols(elf))
    # The loop block ran 10 times and branched back 9 times; exact per-instruction counts.
    runs = {}
    for line in out.read_text().splitlines():
        if line.startswith("S 0 "):
            tb, n, taken = (int(x) for x in line.split()[3:])
            runs[tb] = [a + b for a, b in zip(runs.get(tb, [0, 0]), (n, taken))]
    assert sorted(runs.values()) == [[1, 0], [10, 9]]
    # Hand-counted from the table: the loop closed by its own mark 9 times (the first pass was
    # opened by the entry code), the last pass and the exit block closed by the exit.
    assert mix.segments[0, 0].instructions == 9 * 5
    assert mix.segments[0, 0].cycles == 9 * (6 + cycles.REFILL)
    assert mix.segments[0, -1].instructions == 5 + 3
    assert mix.segments[0, -1].cycles == 6 + 4
    assert mix.segments[-1, 0].instructions == 3


INVOKE = """\
__attribute__((noinline)) unsigned ticks(void) { return *(volatile unsigned *)0x40000004u; }
int op_b(int x);
__attribute__((noinline)) int op_a(int x) { return x * 3 + (int)ticks(); }
/* the shape codegen gives tinyflow_model_invoke: a read starts the clock, one closes each op;
   a patch-based stage adds each band into its op's slot */
__attribute__((noinline)) int invoke(unsigned *op_ticks) {
  int status = 0;
  unsigned t0 = op_ticks != 0 ? ticks() : 0u, t1;
  status = op_a(1);
  if (status != 0) return status;
  if (op_ticks != 0) { t1 = ticks(); op_ticks[0] = t1 - t0; t0 = t1; }
  if (op_ticks != 0) { op_ticks[1] = 0u; op_ticks[2] = 0u; }
  status = op_b(2);
  if (status != 0) return status;
  if (op_ticks != 0) { t1 = ticks(); op_ticks[1] += t1 - t0; t0 = t1; }
  status = op_a(3);
  if (status != 0) return status;
  if (op_ticks != 0) { t1 = ticks(); op_ticks[2] += t1 - t0; t0 = t1; }
  status = op_b(4);
  if (status != 0) return status;
  if (op_ticks != 0) { t1 = ticks(); op_ticks[1] += t1 - t0; t0 = t1; }
  return status;
}
__attribute__((noinline)) int op_b(int x) { return x - (int)ticks(); }
void _start(void) { static unsigned t[3]; for (;;) (void)invoke(t); }
"""


@pytest.mark.arm
def test_tick_reads_name_the_op_each_read_closes(tmp_path):
    from conftest import require_tool

    elf = _arm_gcc(tmp_path, "calls.c", INVOKE, "-O2", "-nostdlib")
    dump = subprocess.run(
        [require_tool("arm-none-eabi-objdump"), "-d", str(elf)], capture_output=True, text=True, check=True
    ).stdout
    body = dump[dump.index("<invoke>:") :]
    body = body[: body.index("\n\n")]
    want = [int(ln.split(":")[0], 16) + 4 for ln in body.splitlines() if "\tbl\t" in ln and "<ticks>" in ln]
    reads = cycles.tick_reads(elf, "invoke", "ticks")
    assert len(want) == 5 and [a for a, _ in reads] == want
    assert [k for _, k in reads] == [None, 0, 1, 2, 1]  # the clock's start, then the op each read closes
    assert cycles.tick_reads(elf, "invoke", "missing") == []


def test_only_an_emulated_cortex_m4_gets_the_plugin():
    from tinyflow.workflows.cycles import attach_mix

    m0 = SimpleNamespace(elf="x.elf", machine=SimpleNamespace(core="cortex-m0"), restart_with=None)
    assert attach_mix(m0) is None
    assert attach_mix(SimpleNamespace(machine=None)) is None  # sim://host, a serial port: no ELF


@pytest.mark.firmware
@pytest.mark.arm
@pytest.mark.qemu
def test_plugin_instructions_per_op_equal_the_icount_ones_on_a_real_model(tmp_path, monkeypatch):
    import numpy as np

    from conftest import corpus_path, require_tool
    from tinyflow.targets.client import DeviceClient
    from tinyflow.targets.machines import qemu_m4
    from tinyflow.workflows.cycles import attach_mix
    from tinyflow.workflows.device import open_device
    from tinyflow.workflows.profile import random_inputs

    require_tool("qemu-system-arm")
    model = corpus_path("tflm/micro_speech_quantized.tflite").read_bytes()
    port = open_device("sim://qemu-m4", model=model, timeout=60)
    session = attach_mix(port)
    try:
        client = DeviceClient(port, timeout=60)
        x = random_inputs(client.handshake(), np.random.default_rng(1))
        for _ in range(2):
            client.infer(x)
        ops = [qemu_m4.instructions(t) for _, t in client.profile()]
    finally:
        estimate = session.finish()
    assert len(estimate.op_tallies) == len(ops) == 4
    for want, tally in zip(ops, estimate.op_tallies):
        # The same instructions, up to where in the tick read the timer is sampled.
        assert abs(tally.instructions / 2 - want) <= 4
    assert 1.0 < estimate.cpi < 3.0
    # The hot functions are the 1-channel conv's kernel (its depthwise layer runs as a conv) and its neighbours.
    kernels = ("tinyflow_depthwise", "tinyflow_conv", "conv_small", "sc_", "dw")
    assert any(f.name.startswith(kernels) or "dw" in f.name for f in estimate.functions[:3])
