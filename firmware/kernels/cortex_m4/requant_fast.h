/* Requantization in six instructions (QADD, SMMULR, SUB, ASR, ADD, SSAT, then a shared clamp) that
 * equals tinyflow_requantize_s8 (TFLM's MultiplyByQuantizedMultiplier, double rounding) whenever
 * the doubling of the accumulator does not saturate. Four accumulators are doubled together
 * (tinyflow_m4_double4), which reports a saturation through the sticky Q flag; the caller then
 * takes the exact path for those four. tinyflow_m4_fast_ok() decides once per kernel call.
 *
 * Why it is the same, for exponent e = -shift in [1, 31] and |acc| < 2^30:
 * - QADD(acc, acc) = 2 acc exactly and SMMULR(2 acc, m) = floor((2 acc m + 2^31) / 2^32)
 *   = floor((acc m + 2^30) / 2^31) = SaturatingRoundingDoublingHighMul(acc, m), for any m (it
 *   saturates only for acc = m = INT32_MIN).
 * - RoundingDivideByPOT(x, e) rounds half away from zero: floor((x - (x < 0) + 2^(e-1)) / 2^e),
 *   computed as floor((floor((x - (x < 0)) / 2^(e-1)) + 1 + 2 offset) / 2) - offset, so the output
 *   offset rides along in c = 1 + 2 offset (|x| <= 2^30: no overflow).
 * A channel with multiplier 0 gives 0 + offset. */
#ifndef TINYFLOW_KERNELS_CORTEX_M4_REQUANT_FAST_H
#define TINYFLOW_KERNELS_CORTEX_M4_REQUANT_FAST_H

#include <stdint.h>

#include "simd.h"

/* 1 when tinyflow_m4_fast_requant applies to all n channels: shift in [-31, -1], or 0 with
 * multiplier 0. Such channels also qualify for tinyflow_m4_requantize_right_s8 (the exact path
 * a saturating block falls back to), so callers may skip tinyflow_m4_right_only's scan. */
static inline int tinyflow_m4_fast_ok(const int32_t *multiplier, const int32_t *shift, int32_t n) {
  for (int32_t i = 0; i < n; ++i) {
    const int32_t s = shift[i], m = multiplier[i];
    if ((uint32_t)(s + 31) > 31u || m == INT32_MIN || (s == 0 && m != 0)) return 0;
  }
  return 1;
}

/* The per-channel exponent operand of tinyflow_m4_fast_requant: e - 1, or 255 (any shift of 32 or
 * more gives 0 for x = 0) for a multiplier-0 channel with shift 0. */
static inline int32_t tinyflow_m4_fast_e1(int32_t shift) {
  return ~shift;
}

/* *a_k = 2 *a_k (saturating) for k < 4; nonzero when one saturated (|a_k| >= 2^30). The Q flag
 * is cleared first and read after, in one block, so nothing else can set it in between. Always
 * inlined, so accumulators in registers stay there (fully_connected.c). */
static inline __attribute__((always_inline)) uint32_t tinyflow_m4_double4_regs(int32_t *a0, int32_t *a1,
                                                                               int32_t *a2, int32_t *a3) {
  int32_t x0 = *a0, x1 = *a1, x2 = *a2, x3 = *a3;
  uint32_t apsr;
  __asm__("msr APSR_nzcvq, %[z]\n\t"
          "qadd %[a0], %[a0], %[a0]\n\t"
          "qadd %[a1], %[a1], %[a1]\n\t"
          "qadd %[a2], %[a2], %[a2]\n\t"
          "qadd %[a3], %[a3], %[a3]\n\t"
          "mrs %[f], APSR"
          : [a0] "+r"(x0), [a1] "+r"(x1), [a2] "+r"(x2), [a3] "+r"(x3), [f] "=r"(apsr)
          : [z] "r"(0)
          : "cc");
  *a0 = x0, *a1 = x1, *a2 = x2, *a3 = x3;
  return apsr & (1u << 27);
}

/* tinyflow_m4_double4_regs on a[0..3]. */
static inline uint32_t tinyflow_m4_double4(int32_t *a) {
  return tinyflow_m4_double4_regs(&a[0], &a[1], &a[2], &a[3]);
}

/* One output from a doubled accumulator, saturated to int8 (the activation clamp comes after):
 * e1 = tinyflow_m4_fast_e1(shift) per channel, c = 1 + 2 * output_offset per call. In assembly:
 * the ASR by register takes e1's low byte, defined for 255 too (C's >> is not). */
static inline int32_t tinyflow_m4_fast_requant(int32_t doubled, int32_t multiplier, int32_t e1, int32_t c) {
  int32_t x;
  __asm__("smmulr %[x], %[d], %[m]\n\t"
          "sub %[x], %[x], %[x], lsr #31\n\t"
          "asr %[x], %[x], %[e]\n\t"
          "add %[x], %[x], %[c]\n\t"
          "ssat %[x], #8, %[x], asr #1"
          : [x] "=&r"(x)
          : [d] "r"(doubled), [m] "r"(multiplier), [e] "r"(e1), [c] "r"(c));
  return x;
}

/* Four int8 lanes clamped to [lo4, hi4] (each a byte replicated four times), with the GE flags. */
static inline uint32_t tinyflow_m4_clamp4(uint32_t v, uint32_t lo4, uint32_t hi4) {
  uint32_t t;
  __asm__("ssub8 %[t], %[v], %[lo]\n\t"
          "sel %[v], %[v], %[lo]\n\t"
          "ssub8 %[t], %[hi], %[v]\n\t"
          "sel %[v], %[v], %[hi]"
          : [v] "+r"(v), [t] "=&r"(t)
          : [lo] "r"(lo4), [hi] "r"(hi4));
  return v;
}

/* The low bytes of four values in one word, b0 lowest: three BFIs (GCC's shifts and masks take 8). */
static inline uint32_t tinyflow_m4_pack4(int32_t b0, int32_t b1, int32_t b2, int32_t b3) {
  uint32_t v = (uint32_t)b0;
  __asm__("bfi %0, %1, #8, #8\n\t"
          "bfi %0, %2, #16, #8\n\t"
          "bfi %0, %3, #24, #8"
          : "+&r"(v)
          : "r"(b1), "r"(b2), "r"(b3));
  return v;
}

static inline uint32_t tinyflow_m4_bytes4(int32_t b) {
  return (uint32_t)(uint8_t)b * 0x01010101u;
}

#endif /* TINYFLOW_KERNELS_CORTEX_M4_REQUANT_FAST_H */
