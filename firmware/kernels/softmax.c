/* SOFTMAX int8 (TFLM reference_ops::Softmax, quantized path); see tinyflow/kernels/softmax.h. */
#include "tinyflow/kernels/softmax.h"
#include "tinyflow/kernels/fixedpoint.h"
#include "tinyflow/kernels/shape.h"

#define SCALED_DIFF_INT_BITS 5
#define ACCUM_INT_BITS 12

/* exp(beta * scale * diff) in Q0 for diff >= diff_min. */
static int32_t scaled_exp(const tinyflow_softmax_params_t *p, int32_t diff) {
  const int32_t rescaled = tinyflow_srdhm((int32_t)((uint32_t)diff << p->input_left_shift), p->input_multiplier);
  return tinyflow_fp_exp_neg(rescaled, SCALED_DIFF_INT_BITS);
}

/* One row; out8 or out16 receives the result (the other is NULL). */
static int softmax_row(const tinyflow_softmax_params_t *p, const int8_t *in, int8_t *out8, int16_t *out16) {
  const int out_bits = out8 != 0 ? 8 : 16;
  const int32_t out_min = out8 != 0 ? -128 : -32768;
  const int32_t out_max = out8 != 0 ? 127 : 32767;
  int32_t max_in_row = -128, sum_of_exps = 0, shifted_scale;
  int32_t c;
  int num_bits_over_unit, exponent;
  for (c = 0; c < p->depth; ++c) {
    if (in[c] > max_in_row) max_in_row = in[c];
  }
  for (c = 0; c < p->depth; ++c) {
    const int32_t diff = in[c] - max_in_row;
    if (diff >= p->diff_min) {
      sum_of_exps = tinyflow_fp_add(sum_of_exps, tinyflow_fp_mulpot(scaled_exp(p, diff), -ACCUM_INT_BITS));
    }
  }
  shifted_scale = tinyflow_fp_reciprocal(sum_of_exps, ACCUM_INT_BITS, &num_bits_over_unit);
  exponent = num_bits_over_unit + 31 - out_bits;
  if (exponent < 0 || exponent > 31) return TINYFLOW_KERNEL_EINVAL;
  for (c = 0; c < p->depth; ++c) {
    const int32_t diff = in[c] - max_in_row;
    int32_t v = out_min;
    if (diff >= p->diff_min) {
      v = tinyflow_rdivpot(tinyflow_srdhm(shifted_scale, scaled_exp(p, diff)), exponent) + out_min;
      if (v > out_max) v = out_max;
      if (v < out_min) v = out_min;
    }
    if (out8 != 0) out8[c] = (int8_t)v; else out16[c] = (int16_t)v;
  }
  return TINYFLOW_KERNEL_OK;
}

static int check(const tinyflow_softmax_params_t *p) {
  if (p->outer < 0 || p->depth <= 0 || p->input_left_shift < 0 || p->input_left_shift > 31) {
    return TINYFLOW_KERNEL_EINVAL;
  }
  return TINYFLOW_KERNEL_OK;
}

int tinyflow_softmax_s8(const tinyflow_softmax_params_t *p, const int8_t *input, int8_t *output) {
  int32_t i;
  int status = check(p);
  for (i = 0; i < p->outer && status == TINYFLOW_KERNEL_OK; ++i) {
    status = softmax_row(p, input + i * p->depth, output + i * p->depth, 0);
  }
  return status;
}

int tinyflow_softmax_s8_s16(const tinyflow_softmax_params_t *p, const int8_t *input, int16_t *output) {
  int32_t i;
  int status = check(p);
  for (i = 0; i < p->outer && status == TINYFLOW_KERNEL_OK; ++i) {
    status = softmax_row(p, input + i * p->depth, 0, output + i * p->depth);
  }
  return status;
}
