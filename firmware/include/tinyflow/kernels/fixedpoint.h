/* gemmlowp-style fixed-point math (exp, logistic, tanh, reciprocal) used by the SOFTMAX,
 * LOGISTIC and TANH kernels. Bit-exact ports of gemmlowp/fixedpoint/fixedpoint.h (scalar int32
 * paths) as TFLite Micro's reference kernels use them. Requantization (MultiplyByQuantized-
 * Multiplier, SaturatingRoundingDoublingHighMul, RoundingDivideByPOT) lives in common.h; this
 * header holds only what common.h does not.
 *
 * A value "Qn" below is a gemmlowp FixedPoint<int32_t, n>: n integer bits, 31 - n fractional.
 * Additions wrap (two's complement) like the compiled TFLM code, without C signed overflow. */
#ifndef TINYFLOW_KERNELS_FIXEDPOINT_H
#define TINYFLOW_KERNELS_FIXEDPOINT_H

#include <stdint.h>

#include "tinyflow/kernels/common.h"

#define TINYFLOW_FP_Q0_ONE INT32_MAX

static inline int32_t tinyflow_fp_add(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t tinyflow_fp_sub(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a - (uint32_t)b);
}

/* gemmlowp::SaturatingRoundingMultiplyByPOT<exponent>, exponent in [-31, 31]. */
static inline int32_t tinyflow_fp_mulpot(int32_t x, int exponent) {
  int32_t threshold;
  if (exponent == 0) return x;
  if (exponent < 0) return tinyflow_rdivpot(x, -exponent);
  threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return (int32_t)((uint32_t)x << exponent);
}

/* tinyflow_mbqm(x, multiplier, shift) for a multiplier >= 0 (every host-made one), with the shift
 * split once outside the loop: left = max(shift, 0), right = max(-shift, 0). Same result, fewer
 * instructions: SRDHM cannot saturate when the multiplier is not INT32_MIN, and gemmlowp's
 * "nudge by +-2^30, then divide truncating" equals "add 2^30, then shift right (floor)". */
static inline int32_t tinyflow_fp_requant(int32_t x, int32_t multiplier, int left, int right) {
  const int64_t ab = (int64_t)(int32_t)((uint32_t)x << left) * (int64_t)multiplier;
  const int32_t high = (int32_t)((ab + ((int64_t)1 << 30)) >> 31);
  const int32_t mask = (int32_t)(((uint32_t)1 << right) - 1u);
  const int32_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
  return (high >> right) + ((high & mask) > threshold ? 1 : 0);
}

/* gemmlowp::RoundingHalfSum. */
static inline int32_t tinyflow_fp_half_sum(int32_t a, int32_t b) {
  const int64_t sum = (int64_t)a + (int64_t)b;
  return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* Number of leading zero bits of x (32 for 0), as tflite::CountLeadingZeros. */
static inline int tinyflow_fp_clz(uint32_t x) {
  int n = 0;
  if (x == 0) return 32;
  while ((x & 0x80000000u) == 0) { /* at most 31 steps */
    x <<= 1;
    ++n;
  }
  return n;
}

/* exp(x) for Q0 x in [-1/4, 0); result Q0. */
int32_t tinyflow_fp_exp_quarter(int32_t a);
/* exp(x) for x <= 0 in Q(int_bits), int_bits in [0, 6]; result Q0. */
int32_t tinyflow_fp_exp_neg(int32_t a, int int_bits);
/* 1 / (1 + x) for Q0 x in [0, 1); result Q0. */
int32_t tinyflow_fp_one_over_one_plus_x(int32_t a);
/* logistic(x) for x in Q(int_bits); result Q0. */
int32_t tinyflow_fp_logistic(int32_t a, int int_bits);
/* tanh(x) for x in Q(int_bits); result Q0. */
int32_t tinyflow_fp_tanh(int32_t a, int int_bits);
/* tflite::GetReciprocal: 1/x for x in Q(x_int_bits), x > 0; result Q0 and the extra shift. */
int32_t tinyflow_fp_reciprocal(int32_t x, int x_int_bits, int *num_bits_over_unit);

#endif /* TINYFLOW_KERNELS_FIXEDPOINT_H */
