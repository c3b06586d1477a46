"""Thumb-2 (ARMv7E-M) instruction decoding into Cortex-M4 timing classes. Pure: bytes in, Insn out.

Only what the cycle model (cycles.py) needs: the instruction's class, its size, and for loads and
stores the registers that matter to pipelining (the loaded register, the address registers, base
write-back, register offset); for load/store multiple the number of registers. Encodings follow the
ARMv7-M Architecture Reference Manual (DDI 0403), section A5 ("Thumb instruction set encoding").
Anything unrecognised decodes as "other" (1 cycle), never as an error: the model must cope with
whatever the firmware executes.
"""

from __future__ import annotations

from dataclasses import dataclass

PC, SP = 15, 13


@dataclass(frozen=True)
class Insn:
    """One decoded instruction: its timing class and what the class's cost depends on."""

    kind: str
    size: int  # bytes: 2 or 4
    regs: int = 0  # registers moved by LDM/STM/PUSH/POP/VLDM/VSTM
    rt: int | None = None  # the register a load writes
    addr: frozenset = frozenset()  # registers a load/store computes its address from
    writeback: bool = False  # base register updated (pre/post-indexed)
    reg_offset: bool = False  # [Rn, Rm] addressing


def is_wide(first_halfword: int) -> bool:
    """Whether a halfword starts a 32-bit Thumb-2 instruction (bits 15:11 are 11101, 11110 or 11111)."""
    return (first_halfword >> 11) in (0b11101, 0b11110, 0b11111)


def decode(raw: bytes) -> Insn:
    """Decode one instruction from its little-endian bytes (2 or 4, as QEMU reports them)."""
    hw1 = int.from_bytes(raw[:2], "little")
    if len(raw) >= 4 and is_wide(hw1):
        return _decode32(hw1, int.from_bytes(raw[2:4], "little"))
    return _decode16(hw1)


def _ls(kind: str, size: int, rt: int, *addr: int, writeback=False, reg_offset=False) -> Insn:
    if kind == "load" and rt == PC:
        return Insn("load_pc", size, rt=rt, addr=frozenset(addr))
    return Insn(kind, size, rt=rt, addr=frozenset(addr), writeback=writeback, reg_offset=reg_offset)


def _decode16(hw: int) -> Insn:
    top = hw >> 10
    if hw >> 14 == 0 or top == 0b010000:  # shift/add/sub/mov/cmp immediate; data processing (MULS too)
        return Insn("mul" if top == 0b010000 and (hw >> 6) & 0xF == 0b1101 else "alu", 2)
    if top == 0b010001:  # special data processing, BX/BLX
        op = (hw >> 8) & 3
        if op == 3:
            return Insn("branch_indirect", 2)
        rd = ((hw >> 4) & 8) | (hw & 7)
        return Insn("branch_indirect" if op != 1 and rd == PC else "alu", 2)
    if hw >> 11 == 0b01001:  # LDR (literal)
        return _ls("load", 2, (hw >> 8) & 7, PC)
    if hw >> 12 == 0b0101:  # load/store register offset
        kind = "store" if (hw >> 9) & 7 < 3 else "load"
        return _ls(kind, 2, hw & 7, (hw >> 3) & 7, (hw >> 6) & 7, reg_offset=True)
    if hw >> 13 == 0b011 or hw >> 12 == 0b1000:  # LDR/STR(B) and LDRH/STRH immediate
        return _ls("load" if hw & 0x0800 else "store", 2, hw & 7, (hw >> 3) & 7)
    if hw >> 12 == 0b1001:  # LDR/STR SP-relative
        return _ls("load" if hw & 0x0800 else "store", 2, (hw >> 8) & 7, SP)
    if hw >> 12 == 0b1010:  # ADR, ADD SP
        return Insn("alu", 2)
    if hw >> 12 == 0b1011:
        return _misc16(hw)
    if hw >> 12 == 0b1100:  # LDM/STM
        n = bin(hw & 0xFF).count("1")
        return Insn("load_multiple" if hw & 0x0800 else "store_multiple", 2, regs=n)
    if hw >> 12 == 0b1101:  # B<cond>, UDF, SVC
        return Insn("system" if (hw >> 9) & 7 == 7 else "branch_cond", 2)
    if hw >> 11 == 0b11100:  # B
        return Insn("branch", 2)
    return Insn("other", 2)


def _misc16(hw: int) -> Insn:
    if hw & 0xF500 == 0xB100:  # CBZ/CBNZ
        return Insn("branch_cond", 2)
    if hw & 0xFE00 == 0xB400:  # PUSH
        return Insn("store_multiple", 2, regs=bin(hw & 0x1FF).count("1"))
    if hw & 0xFE00 == 0xBC00:  # POP (bit 8: PC)
        return Insn("pop_pc" if hw & 0x100 else "load_multiple", 2, regs=bin(hw & 0x1FF).count("1"))
    if hw & 0xFF00 == 0xBF00:  # IT (a non-zero mask) or a hint (NOP, WFI, ...)
        return Insn("it" if hw & 0xF else "system", 2)
    if hw & 0xFF00 in (0xBE00, 0xB600):  # BKPT, CPS
        return Insn("system", 2)
    return Insn("alu", 2)  # ADD/SUB SP, SXTH/SXTB/UXTH/UXTB, REV*


def _decode32(hw1: int, hw2: int) -> Insn:
    op1 = (hw1 >> 11) & 3
    if op1 == 0b01:
        if hw1 & 0x0400:  # coprocessor: the FPU
            return _fpu(hw1, hw2)
        if hw1 & 0x0200:  # data processing (shifted register)
            return Insn("alu", 4)
        if hw1 & 0x0040:  # load/store dual or exclusive, table branch
            return _dual(hw1, hw2)
        n = bin(hw2 & 0xFFFF).count("1")  # LDM/STM (PUSH/POP .W)
        if hw1 & 0x0010:
            return Insn("pop_pc" if hw2 & 0x8000 else "load_multiple", 4, regs=n)
        return Insn("store_multiple", 4, regs=n)
    if op1 == 0b10:
        if hw2 & 0x8000:
            return _branch_misc(hw1, hw2)
        return Insn("alu", 4)  # data processing, modified or plain immediate (MOVW, MOVT, BFI, SSAT, ...)
    if hw1 & 0x0400:  # coprocessor with bit 28 set (LDC2, MCR2, ...)
        return Insn("other", 4)
    if hw1 & 0xFE00 == 0xF800:  # load/store single
        return _single32(hw1, hw2)
    if hw1 & 0xFF00 == 0xFA00:  # data processing (register): shifts, extend, parallel add/sub, misc
        return Insn("simd" if _is_simd(hw1, hw2) else "alu", 4)
    if hw1 & 0xFF80 == 0xFB00:  # multiply, multiply-accumulate, absolute difference
        op, ra = (hw1 >> 4) & 7, hw2 >> 12
        if op == 0:
            if (hw2 >> 4) & 3 == 0:
                return Insn("mul" if ra == PC else "mla", 4)
            return Insn("mla", 4)  # MLS
        return Insn("mac", 4)  # SMULxy/SMLAxy, SMUAD/SMLAD, SMULW/SMLAW, SMUSD/SMLSD, SMMUL/SMMLA, USAD8
    if hw1 & 0xFF80 == 0xFB80:  # long multiply and accumulate, divide
        op = (hw1 >> 4) & 7
        return Insn("div" if op in (1, 3) else "mac", 4)
    return Insn("other", 4)


def _is_simd(hw1: int, hw2: int) -> bool:
    """DSP-extension data processing in the 0xFA00 group (A5.3.12): parallel add/subtract,
    SXTB16/UXTB16 (with add), SEL, QADD/QSUB."""
    op1, op2 = (hw1 >> 4) & 0xF, (hw2 >> 4) & 0xF
    if op1 & 8 and not op2 & 8:  # SADD16, UQSUB8, SHADD16 ...
        return True
    return (op1 in (2, 3) and bool(op2 & 8)) or (op1 == 0b1010 and op2 == 0b1000) or (op1 == 0b1000 and op2 & 0xC == 8)


def _single32(hw1: int, hw2: int) -> Insn:
    rn, rt = hw1 & 0xF, hw2 >> 12
    load = bool(hw1 & 0x0010)
    if load and rt == PC and (hw1 >> 5) & 3 != 2:  # PLD/PLI: a byte or halfword "load" to PC is a hint
        return Insn("system", 4)
    kind = "load" if load else "store"
    if hw1 & 0x0080 or rn == PC:  # imm12 or literal
        return _ls(kind, 4, rt, rn)
    if (hw2 >> 6) & 0x3F == 0:  # register offset
        return _ls(kind, 4, rt, rn, hw2 & 0xF, reg_offset=True)
    writeback = bool(hw2 & 0x0800) and bool(hw2 & 0x0100)  # imm8 with W (pre/post-indexed)
    return _ls(kind, 4, rt, rn, writeback=writeback)


def _dual(hw1: int, hw2: int) -> Insn:
    if hw1 & 0xFFF0 == 0xE8D0 and hw2 & 0xFFE0 == 0xF000:  # TBB/TBH
        return Insn("table_branch", 4)
    if hw1 & 0xFFE0 == 0xE840 or (hw1 & 0xFFE0 == 0xE8C0 and (hw2 >> 4) & 0xC == 0x4):  # LDREX/STREX
        return _ls("load" if hw1 & 0x0010 else "store", 4, hw2 >> 12, hw1 & 0xF)
    return Insn("load_dual" if hw1 & 0x0010 else "store_dual", 4, regs=2)


def _branch_misc(hw1: int, hw2: int) -> Insn:
    op = (hw2 >> 12) & 7
    if op & 0b101 == 0b000:  # B<cond>.W or miscellaneous control
        if (hw1 >> 7) & 7 != 7:
            return Insn("branch_cond", 4)
        return Insn("system", 4)  # MSR, MRS, hints, barriers
    if op & 0b101 in (0b001, 0b101):  # B.W, BL
        return Insn("branch", 4)
    return Insn("other", 4)


def _fpu(hw1: int, hw2: int) -> Insn:
    if hw1 & 0x0F00 in (0x0C00, 0x0D00):
        if hw1 & 0xFFE0 == 0xEC40:  # VMOV between two core registers and a doubleword
            return Insn("fpu", 4)
        if hw1 & 0x0300 == 0x0100 and not hw1 & 0x0020:  # VLDR/VSTR
            return Insn("fpu_load" if hw1 & 0x0010 else "fpu_store", 4)
        n = hw2 & 0xFF  # VLDM/VSTM/VPUSH/VPOP: imm8 words
        return Insn("fpu_multiple", 4, regs=n)
    if hw1 & 0x0F00 == 0x0E00 and not hw2 & 0x0010:  # VFP data processing
        opc1 = (hw1 >> 4) & 0xB
        if opc1 == 0x8:
            return Insn("fpu_div", 4)  # VDIV
        if opc1 == 0xB and (hw1 & 0xF) == 1 and (hw2 >> 6) & 3 == 3:
            return Insn("fpu_div", 4)  # VSQRT (same latency)
        if opc1 in (0x0, 0x1, 0x9, 0xA):  # VMLA/VMLS, VNMLA/VNMLS, VFNMA, VFMA
            return Insn("fpu_mac", 4)
    return Insn("fpu", 4)
