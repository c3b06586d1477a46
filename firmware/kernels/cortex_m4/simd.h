/* Cortex-M4 (ARMv7E-M DSP) helpers shared by the kernels in this folder. Each kernel here is
 * a drop-in replacement of the portable firmware/kernels/<op>.c of the same name (same function,
 * same parameters) that tinyflow/compile/kernels.py selects for Cortex-M4 builds. Outputs are
 * bit-identical: the int8 products are summed exactly in int32, only in another order. */
#ifndef TINYFLOW_KERNELS_CORTEX_M4_SIMD_H
#define TINYFLOW_KERNELS_CORTEX_M4_SIMD_H

#include <arm_acle.h>
#include <stdint.h>
#include <string.h>

#if !defined(__ARM_FEATURE_DSP) || !__ARM_FEATURE_DSP
#error "firmware/kernels/cortex_m4 needs the DSP extension (-mcpu=cortex-m4); build the portable kernels instead"
#endif

/* The hand-scheduled loops need 14 registers; at -O0 GCC keeps r7 as frame pointer and cannot
 * allocate them, so unoptimised builds use the C loops (same results). */
#if defined(__OPTIMIZE__) && !defined(TINYFLOW_M4_ASM)
#define TINYFLOW_M4_ASM 1
#endif
#ifndef TINYFLOW_M4_ASM
#define TINYFLOW_M4_ASM 0
#endif

/* Four int8 from any alignment (Cortex-M4 does unaligned word loads; memcpy compiles to one). */
static inline int32_t tinyflow_m4_load4(const int8_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}

static inline int32_t tinyflow_m4_ror8(int32_t v) {
  return (int32_t)(((uint32_t)v >> 8) | ((uint32_t)v << 24));
}

/* Bytes 1 and 3 sign-extended into halfwords: one instruction (GCC does not fuse the rotate). */
static inline int32_t tinyflow_m4_sxtb16_ror8(int32_t v) {
  int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}

/* off2 + bytes 1 and 3 sign-extended into halfwords, in one instruction. */
static inline int32_t tinyflow_m4_sxtab16_ror8(int32_t off2, int32_t v) {
  int32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(off2), "r"(v));
  return r;
}

/* Offset in both halfwords, for __sxtab16: lane = offset + sign-extended byte. */
static inline int32_t tinyflow_m4_offset2(int32_t offset) {
  return (int32_t)(((uint32_t)offset & 0xFFFFu) | ((uint32_t)offset << 16));
}

#endif /* TINYFLOW_KERNELS_CORTEX_M4_SIMD_H */
