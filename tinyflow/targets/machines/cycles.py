"""Estimated Cortex-M4 cycles from the instruction mix QEMU executes (docs/qemu.md, "Estimated cycles").

QEMU's -icount counts instructions exactly but says nothing about cycles. The TCG plugin
plugins/insn_mix.c records every translated block's instructions and how often each block ran and
branched away in each op (segments between the compiled model's per-op tick reads). Here each
instruction is decoded (thumb.py) into a timing class of the Cortex-M4 Technical Reference Manual
(DDI 0439, table 3-1 "Cortex-M4 instruction set summary"; load/store pairing rules from section
3.3.2) and the cycles are summed per segment and per function of the firmware's ELF.

Pure apart from reading the firmware's ELF: record text in, numbers out. Building the plugin and running QEMU happen elsewhere
(tinyflow.workflows.cycles).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tinyflow.errors import LinkError
from tinyflow.targets.machines.thumb import Insn, decode

PLUGIN_SOURCE = Path(__file__).parent / "plugins" / "insn_mix.c"

# P: the pipeline refill after a taken branch, 1 to 3 cycles in the TRM (the target's alignment and
# width, and whether the branch was speculated early). 2 is the middle of the range.
REFILL = 2
# SDIV/UDIV take 2 to 12 cycles, ending early on small quotients. The kernels divide only in set-up
# code, so the midpoint is used rather than a data-dependent guess.
DIVIDE = 7
# Cycles of each class when it cannot pair with its neighbour; multiples add one per register.
BASE = {
    "alu": 1,
    "simd": 1,  # parallel add/subtract, SXTB16, SEL, QADD: single cycle on the M4's DSP datapath
    "mul": 1,  # MUL: 32x32->32 in one cycle
    "mla": 2,  # MLA, MLS
    "mac": 1,  # SMLAD, SMLABB, SMULL/UMULL, SMLAL/UMLAL, SMMLA, USADA8 ...: the M4's single-cycle MAC
    "div": DIVIDE,
    "load": 2,  # LDR/LDRH/LDRB/LDRSx: 1 when pipelined after a load (below)
    "store": 2,  # STR with a register offset; immediate-offset stores are 1 (the write buffer)
    "load_pc": 2 + REFILL,
    "load_dual": 3,  # LDRD/STRD: 1 + N, N = 2; never pipelined with their neighbours
    "store_dual": 3,
    "load_multiple": 1,  # + N (LDM, POP)
    "store_multiple": 1,  # + N (STM, PUSH)
    "pop_pc": 1 + REFILL,  # + N (POP/LDM with PC)
    "branch": 1 + REFILL,  # B, BL: always taken
    "branch_indirect": 1 + REFILL,  # BX, BLX, MOV/ADD PC
    "branch_cond": 1,  # B<cond>, CBZ/CBNZ: + P when taken
    "table_branch": 2 + REFILL,  # TBB/TBH
    "it": 1,  # 0 when folded onto a preceding 16-bit instruction
    "system": 1,  # NOP, hints, MSR/MRS, barriers, SVC, BKPT
    "fpu": 1,  # VADD, VMUL, VCVT, VMOV ...
    "fpu_mac": 3,  # VMLA/VMLS/VFMA
    "fpu_div": 14,  # VDIV, VSQRT
    "fpu_load": 2,  # VLDR
    "fpu_store": 2,  # VSTR
    "fpu_multiple": 1,  # + N (VLDM/VSTM/VPUSH/VPOP)
    "other": 1,
}
_PER_REGISTER = {"load_multiple", "store_multiple", "pop_pc", "fpu_multiple"}
_TAKEN_PAYS = {"branch_cond"}  # only these pay P per taken execution; the rest always branch


def insn_cycles(insn: Insn, prev: Insn | None) -> int:
    """Cycles of one instruction after `prev` (None at a block's start: nothing to pair with)."""
    base = BASE.get(insn.kind, 1)
    if insn.kind in _PER_REGISTER:
        return base + insn.regs
    if insn.kind == "it":
        return 0 if prev is not None and prev.size == 2 else 1  # IT folding (TRM 3.3.1)
    if insn.kind == "store" and not insn.reg_offset:
        return 1  # "STR Rx,[Ry,#imm] is always one cycle": the data phase overlaps the next instruction
    if insn.kind in ("load", "store") and _pipelines(prev, insn):
        return 1
    return base


def _pipelines(prev: Insn | None, insn: Insn) -> bool:
    """A load or store after a load single that did not write back, whose loaded register the
    address does not use: the address phase overlaps the previous data phase (TRM 3.3.2). Nothing
    pipelines after a store."""
    return (
        prev is not None
        and prev.kind == "load"
        and not prev.writeback
        and prev.rt not in insn.addr
        and not (insn.kind == "load" and insn.rt == 15)
    )


@dataclass
class Block:
    """One translated block: its instructions and their cycles when run start to end."""

    pcs: list[int]
    insns: list[Insn]
    cycles: list[int]

    @property
    def taken_penalty(self) -> int:
        """Extra cycles each time control left the block by a taken conditional branch."""
        return REFILL if self.insns and self.insns[-1].kind in _TAKEN_PAYS else 0


def parse_block(fields: list[str]) -> Block:
    """A block from its plugin record's "pc:bytes" fields."""
    pcs, insns, cycles = [], [], []
    prev = None
    for item in fields:
        pc, raw = item.split(":")
        insn = decode(bytes.fromhex(raw))
        pcs.append(int(pc, 16))
        insns.append(insn)
        cycles.append(insn_cycles(insn, prev))
        prev = insn
    return Block(pcs, insns, cycles)


@dataclass
class Tally:
    """Instructions and estimated cycles, per timing class."""

    instructions: int = 0
    cycles: int = 0
    by_class: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    @property
    def cpi(self) -> float:
        return self.cycles / self.instructions if self.instructions else 0.0

    def add(self, kind: str, n: int, cycles: int) -> None:
        self.instructions += n
        self.cycles += cycles
        row = self.by_class[kind]
        row[0] += n
        row[1] += cycles


@dataclass
class Mix:
    """What the plugin recorded, per segment ((opening mark, closing mark); -1: none, or the exit)
    and per function of each segment."""

    segments: dict[tuple[int, int], Tally]
    functions: dict[tuple[int, int], dict[str, Tally]]


def read_mix(text: str, symbols: list[tuple[int, int, str]] | None = None) -> Mix:
    """Sum the plugin's records (plugins/insn_mix.c's format) into cycles per segment and function.

    Args:
        symbols: (start, size, name) of the ELF's functions (function_symbols) for per-function
            totals; instructions outside every function count under "?".
    Raises:
        LinkError: a record is malformed or names a block that was never translated.
    """
    blocks: dict[int, Block] = {}
    segments: dict[tuple[int, int], Tally] = defaultdict(Tally)
    functions: dict[tuple[int, int], dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    lookup = _symbol_lookup(symbols or [])
    # The emulator is killed when the link closes: a last line without its newline was cut short.
    lines = text.split("\n")[:-1]
    for n, line in enumerate(lines, 1):
        parts = line.split()
        try:
            if parts and parts[0] == "T":
                blocks[int(parts[1])] = parse_block(parts[2:])
            elif parts and parts[0] == "S":
                opened, closed, tb, runs, taken = (int(x) for x in parts[1:6])
                key = (opened, closed)
                _count(blocks[tb], runs, taken, segments[key], functions[key], lookup)
        except (ValueError, KeyError, IndexError) as exc:
            raise LinkError(
                f"The instruction-mix record at line {n} is malformed: {line[:80]!r}",
                "This is a tinyflow bug; report it with the model.",
            ) from exc
    return Mix(dict(segments), {k: dict(v) for k, v in functions.items()})


def _count(block: Block, runs: int, taken: int, segment: Tally, functions, lookup) -> None:
    for i, (pc, insn, cyc) in enumerate(zip(block.pcs, block.insns, block.cycles)):
        extra = taken * block.taken_penalty if i == len(block.insns) - 1 else 0
        cycles = runs * cyc + extra
        segment.add(insn.kind, runs, cycles)
        functions[lookup(pc)].add(insn.kind, runs, cycles)


def _symbol_lookup(symbols: list[tuple[int, int, str]]):
    """pc -> the name of the function that holds it ("?" outside every function), memoised."""
    ordered = sorted(symbols)
    starts = [s for s, _, _ in ordered]
    cache: dict[int, str] = {}

    def lookup(pc: int) -> str:
        if pc not in cache:
            k = bisect.bisect_right(starts, pc) - 1
            cache[pc] = ordered[k][2] if k >= 0 and pc < ordered[k][0] + max(ordered[k][1], 1) else "?"
        return cache[pc]

    return lookup


def function_symbols(elf: Path) -> list[tuple[int, int, str]]:
    """(start, size, name) of every function in an ELF (the Thumb bit cleared)."""
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as fh:
        symtab = ELFFile(fh).get_section_by_name(".symtab")
        if symtab is None:
            return []
        return [
            (s["st_value"] & ~1, s["st_size"], s.name)
            for s in symtab.iter_symbols()
            if s["st_info"]["type"] == "STT_FUNC" and s.name
        ]


def tick_reads(elf: Path, caller: str, callee: str) -> list[tuple[int, int | None]]:
    """Every `bl callee` inside function `caller`, in address order, as (return address, op index).

    For the compiled model, caller = tinyflow_model_invoke and callee = tinyflow_hal_ticks: the op
    index is the slot of op_ticks the code after the read stores into (the first store before the
    next call whose base is the register most such stores share: op_ticks), None for the read that
    only starts the clock. A segment the plugin closes at a return address is that op's."""
    from elftools.elf.elffile import ELFFile

    syms = {name: (start, size) for start, size, name in function_symbols(elf)}
    if caller not in syms or callee not in syms:
        return []
    start, size = syms[caller]
    with open(elf, "rb") as fh:
        code = _read(ELFFile(fh), start, size)
    insns = list(_walk(code, start))
    calls = [k for k, insn in enumerate(insns) if _bl_target(*insn) is not None]
    reads = [k for k in calls if _bl_target(*insns[k]) == syms[callee][0]]
    stores = {}  # read -> (base, offset) of each store between it and the next call
    for k in reads:
        nxt = next((c for c in calls if c > k), len(insns))
        stores[k] = [st for _, hw1, hw2 in insns[k + 1 : nxt] if (st := _store_imm(hw1, hw2)) is not None]
    bases = [b for found in stores.values() for b, _ in found]
    base = max(set(bases), key=bases.count) if bases else None
    out = []
    for k in reads:
        offset = next((off for b, off in stores[k] if b == base), None)
        out.append((insns[k][0] + 4, offset // 4 if offset is not None and offset % 4 == 0 else None))
    return out


def _walk(code: bytes, start: int):
    """(address, first halfword, second halfword or 0) of each instruction of a Thumb function."""
    i = 0
    while i + 2 <= len(code):
        hw1 = int.from_bytes(code[i : i + 2], "little")
        wide = (hw1 >> 11) in (0b11101, 0b11110, 0b11111)
        hw2 = int.from_bytes(code[i + 2 : i + 4], "little") if wide and i + 4 <= len(code) else 0
        yield start + i, hw1, hw2
        i += 4 if wide else 2


def _bl_target(addr: int, hw1: int, hw2: int) -> int | None:
    if (hw1 >> 11) == 0b11110 and (hw2 & 0xD000) == 0xD000:
        return addr + 4 + _bl_offset(hw1, hw2)
    return None


def _store_imm(hw1: int, hw2: int) -> tuple[int, int] | None:
    """(base register, byte offset) of a word store with an immediate offset, SP-relative excluded."""
    if hw1 >> 11 == 0b01100:  # STR Rt, [Rn, #imm5 * 4]
        return (hw1 >> 3) & 7, ((hw1 >> 6) & 0x1F) * 4
    if hw1 & 0xFFF0 == 0xF8C0 and hw1 & 0xF != 13:  # STR.W Rt, [Rn, #imm12]
        return hw1 & 0xF, hw2 & 0xFFF
    return None


def _bl_offset(hw1: int, hw2: int) -> int:
    """The branch offset of a BL (T1 encoding, ARMv7-M A7.7.18)."""
    s = (hw1 >> 10) & 1
    j1, j2 = (hw2 >> 13) & 1, (hw2 >> 11) & 1
    i1, i2 = 1 - (j1 ^ s), 1 - (j2 ^ s)
    imm = (s << 24) | (i1 << 23) | (i2 << 22) | ((hw1 & 0x3FF) << 12) | ((hw2 & 0x7FF) << 1)
    return imm - (1 << 25) if s else imm


def _read(elf, addr: int, size: int) -> bytes:
    for seg in elf.iter_segments():
        if seg["p_type"] == "PT_LOAD" and seg["p_vaddr"] <= addr and addr + size <= seg["p_vaddr"] + seg["p_filesz"]:
            off = addr - seg["p_vaddr"]
            return seg.data()[off : off + size]
    return b""
