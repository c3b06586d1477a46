/* gemmlowp fixed-point transcendental functions; see tinyflow/kernels/fixedpoint.h. */
#include "tinyflow/kernels/fixedpoint.h"

int32_t tinyflow_fp_exp_quarter(int32_t a) {
  /* Taylor expansion around -1/8 (gemmlowp constants: exp(-1/8) and 1/3 in Q0). */
  const int32_t constant_term = 1895147668;
  const int32_t constant_1_over_3 = 715827883;
  const int32_t x = tinyflow_fp_add(a, 1 << 28);
  const int32_t x2 = tinyflow_srdhm(x, x);
  const int32_t x3 = tinyflow_srdhm(x2, x);
  const int32_t x4 = tinyflow_srdhm(x2, x2);
  const int32_t x4_over_4 = tinyflow_fp_mulpot(x4, -2);
  const int32_t poly = tinyflow_fp_mulpot(
      tinyflow_fp_add(tinyflow_srdhm(tinyflow_fp_add(x4_over_4, x3), constant_1_over_3), x2), -1);
  return tinyflow_fp_add(constant_term, tinyflow_srdhm(constant_term, tinyflow_fp_add(x, poly)));
}

int32_t tinyflow_fp_exp_neg(int32_t a, int int_bits) {
  /* exp(-2^k) in Q0 for k = -2..4, applied for each set bit of the integer remainder. */
  static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                         39332535, 720401, 242};
  const int frac_bits = 31 - int_bits;
  const int32_t one_quarter = (int32_t)1 << (frac_bits - 2);
  const int32_t mask = one_quarter - 1;
  const int32_t a_mod_quarter_minus_quarter = tinyflow_fp_sub(a & mask, one_quarter);
  int32_t result = tinyflow_fp_exp_quarter(tinyflow_fp_mulpot(a_mod_quarter_minus_quarter, int_bits));
  const int32_t remainder = tinyflow_fp_sub(a_mod_quarter_minus_quarter, a);
  int k;
  for (k = -2; k <= 4; ++k) {
    if (int_bits > k) {
      const int shift = frac_bits + k;
      if (remainder & (int32_t)((uint32_t)1 << shift)) {
        result = tinyflow_srdhm(result, multipliers[k + 2]);
      }
    }
  }
  if (int_bits > 5) {
    const int32_t clamp = -((int32_t)1 << (36 - int_bits));
    if (a < clamp) result = 0;
  }
  if (a == 0) result = TINYFLOW_FP_Q0_ONE;
  return result;
}

/* Newton-Raphson 1/(1+x) in Q2 (gemmlowp: 48/17 and -32/17 in Q2), shared by logistic and tanh. */
static int32_t newton_inverse_q2(int32_t half_denominator) {
  const int32_t constant_48_over_17 = 1515870810;
  const int32_t constant_neg_32_over_17 = -1010580540;
  const int32_t q2_one = 1 << 29;
  int32_t x = tinyflow_fp_add(constant_48_over_17, tinyflow_srdhm(half_denominator, constant_neg_32_over_17));
  int i;
  for (i = 0; i < 3; i++) {
    const int32_t half_denominator_times_x = tinyflow_srdhm(half_denominator, x);
    const int32_t one_minus = tinyflow_fp_sub(q2_one, half_denominator_times_x);
    x = tinyflow_fp_add(x, tinyflow_fp_mulpot(tinyflow_srdhm(x, one_minus), 2));
  }
  return x;
}

int32_t tinyflow_fp_one_over_one_plus_x(int32_t a) {
  const int32_t x = newton_inverse_q2(tinyflow_fp_half_sum(a, TINYFLOW_FP_Q0_ONE));
  return tinyflow_fp_mulpot(x, 1); /* Q2 / 2 = Q1 value, rescaled to Q0 */
}

static int32_t one_minus_x_over_one_plus_x(int32_t a) {
  const int32_t x = newton_inverse_q2(tinyflow_fp_half_sum(a, TINYFLOW_FP_Q0_ONE));
  return tinyflow_fp_mulpot(tinyflow_fp_sub(x, 1 << 29), 2);
}

int32_t tinyflow_fp_logistic(int32_t a, int int_bits) {
  const int32_t abs_input = a > 0 ? a : tinyflow_fp_sub(0, a);
  const int32_t if_positive =
      tinyflow_fp_one_over_one_plus_x(tinyflow_fp_exp_neg(tinyflow_fp_sub(0, abs_input), int_bits));
  if (a == 0) return 1 << 30;
  return a > 0 ? if_positive : tinyflow_fp_sub(TINYFLOW_FP_Q0_ONE, if_positive);
}

int32_t tinyflow_fp_tanh(int32_t a, int int_bits) {
  const int32_t n = a < 0 ? a : tinyflow_fp_sub(0, a);
  /* exp(2n): the same raw value read with one more integer bit. */
  const int32_t t = one_minus_x_over_one_plus_x(tinyflow_fp_exp_neg(n, int_bits + 1));
  if (a == 0) return 0;
  return a < 0 ? tinyflow_fp_sub(0, t) : t;
}

int32_t tinyflow_fp_reciprocal(int32_t x, int x_int_bits, int *num_bits_over_unit) {
  const int headroom_plus_one = tinyflow_fp_clz((uint32_t)x);
  int32_t shifted_minus_one;
  *num_bits_over_unit = x_int_bits - headroom_plus_one;
  if (headroom_plus_one >= 32) return TINYFLOW_FP_Q0_ONE; /* x == 0: callers never pass it */
  shifted_minus_one = (int32_t)(((uint32_t)x << headroom_plus_one) - ((uint32_t)1 << 31));
  return tinyflow_fp_one_over_one_plus_x(shifted_minus_one);
}
