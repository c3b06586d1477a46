/* Requantization for the Cortex-M4 kernels: the same function as tinyflow_requantize_s8
 * (firmware/include/tinyflow/kernels/common.h, TFLM's double-rounding MultiplyByQuantizedMultiplier)
 * in fewer instructions. Portable C, so the host test (tests/build/test_arm.py) compares the two
 * on millions of values, edge cases included.
 *
 * Why it is the same: gemmlowp's SaturatingRoundingDoublingHighMul adds 2^30 (ab >= 0) or
 * 1 - 2^30 (ab < 0) and truncates (ab + nudge) / 2^31 toward zero. For ab < 0 that truncation is
 * floor((ab + 1 - 2^30 + 2^31 - 1) / 2^31) = floor((ab + 2^30) / 2^31), the same expression as
 * for ab >= 0: one multiply-accumulate (SMLAL) and a 64-bit arithmetic shift, no branch.
 * RoundingDivideByPOT's "remainder > threshold" becomes a carry: floor((rem + c) / 2^e) with
 * c = 2^(e-1) for x >= 0 and 2^(e-1) - 1 for x < 0. */
#ifndef TINYFLOW_KERNELS_CORTEX_M4_REQUANT_H
#define TINYFLOW_KERNELS_CORTEX_M4_REQUANT_H

#include <stdint.h>

#include "tinyflow/kernels/common.h"

TINYFLOW_INLINE int32_t tinyflow_m4_srdhm(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  /* GCC's >> on negative values is arithmetic (documented implementation-defined behaviour). */
  return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

TINYFLOW_INLINE int32_t tinyflow_m4_rdivpot(int32_t x, int exponent) {
  if (exponent == 0) return x;
  const uint32_t mask = ((uint32_t)1 << exponent) - 1u;
  const uint32_t c = (mask >> 1) + (x >= 0 ? 1u : 0u);
  return (x >> exponent) + (int32_t)((((uint32_t)x & mask) + c) >> exponent);
}

TINYFLOW_INLINE int8_t tinyflow_m4_requantize_s8(int32_t acc, int32_t multiplier, int32_t shift, int32_t output_offset,
                                                 int32_t act_min, int32_t act_max) {
  const int left_shift = shift > 0 ? (int)shift : 0;
  const int right_shift = shift > 0 ? 0 : (int)-shift;
  const int32_t x = tinyflow_m4_rdivpot(tinyflow_m4_srdhm((int32_t)((uint32_t)acc << left_shift), multiplier), right_shift);
  return (int8_t)tinyflow_clamp(x + output_offset, act_min, act_max);
}

/* The usual case, decided once per kernel call (tinyflow_m4_right_only): every shift <= 0 and no
 * multiplier is INT32_MIN (QuantizeMultiplier never makes one), so there is no left shift and
 * SaturatingRoundingDoublingHighMul cannot saturate. exponent = -shift in [0, 31]; the rounding
 * constant c is 2^(e-1), minus 1 for x < 0, and 0 when e = 0, without a branch. */
TINYFLOW_INLINE int8_t tinyflow_m4_requantize_right_s8(int32_t acc, int32_t multiplier, int32_t shift,
                                                       int32_t output_offset, int32_t act_min, int32_t act_max) {
  const int exponent = (int)-shift;
  const int32_t x = (int32_t)(((int64_t)acc * (int64_t)multiplier + ((int64_t)1 << 30)) >> 31);
  const uint32_t mask = ((uint32_t)1 << exponent) - 1u;
  const uint32_t c = (mask >> 1) + ((~(uint32_t)x >> 31) & mask & 1u);
  const int32_t y = (x >> exponent) + (int32_t)((((uint32_t)x & mask) + c) >> exponent);
  return (int8_t)tinyflow_clamp(y + output_offset, act_min, act_max);
}

/* 1 when tinyflow_m4_requantize_right_s8 applies to all n channels. */
static inline int tinyflow_m4_right_only(const int32_t *multiplier, const int32_t *shift, int32_t n) {
  for (int32_t i = 0; i < n; ++i) {
    if (shift[i] > 0 || shift[i] < -31 || multiplier[i] == INT32_MIN) return 0;
  }
  return 1;
}

/* Requantize with the fast path when the call qualified for it. */
TINYFLOW_INLINE int8_t tinyflow_m4_requant(int right_only, int32_t acc, int32_t multiplier, int32_t shift,
                                           int32_t output_offset, int32_t act_min, int32_t act_max) {
  return right_only ? tinyflow_m4_requantize_right_s8(acc, multiplier, shift, output_offset, act_min, act_max)
                    : tinyflow_m4_requantize_s8(acc, multiplier, shift, output_offset, act_min, act_max);
}

#endif /* TINYFLOW_KERNELS_CORTEX_M4_REQUANT_H */
