/* Drives every H8 kernel through extreme parameters and inputs; built with ASan/UBSan by
 * test_kernels_sanitized.py, so any undefined behaviour or out-of-bounds access fails the test.
 * Prints one checksum line per kernel so the test can also see every kernel ran. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tinyflow/kernels/activations.h"
#include "tinyflow/kernels/add.h"
#include "tinyflow/kernels/concatenation.h"
#include "tinyflow/kernels/dequantize.h"
#include "tinyflow/kernels/logistic.h"
#include "tinyflow/kernels/lut.h"
#include "tinyflow/kernels/mean.h"
#include "tinyflow/kernels/mul.h"
#include "tinyflow/kernels/pad.h"
#include "tinyflow/kernels/quantize.h"
#include "tinyflow/kernels/reshape.h"
#include "tinyflow/kernels/softmax.h"
#include "tinyflow/kernels/svdf.h"
#include "tinyflow/kernels/tanh.h"
#include "tinyflow/model.h"

static int8_t all8[256];
static int8_t out8[256];
static uint32_t sum;

static void mix(const void *p, size_t n) {
  const uint8_t *b = (const uint8_t *)p;
  size_t i;
  for (i = 0; i < n; ++i) sum = sum * 31u + b[i];
}

static const int32_t multipliers[] = {0, 1, 1 << 30, INT32_MAX};
static const int32_t shifts[] = {-31, -20, -1, 0, 1, 10};

static void flat(tinyflow_broadcast_t *b, int32_t n) {
  int d;
  for (d = 0; d < 6; ++d) { b->dims[d] = 1; b->strides1[d] = 0; b->strides2[d] = 0; }
  b->dims[5] = n; b->strides1[5] = 1; b->strides2[5] = 1;
}

static int binary_ops(void) {
  tinyflow_broadcast_t b;
  size_t m, s;
  int bad = 0;
  flat(&b, 256);
  for (m = 0; m < 4; ++m) {
    for (s = 0; s < 6; ++s) {
      tinyflow_add_params_t a = {20, 128, multipliers[m], shifts[s] > 0 ? 0 : shifts[s], -127, multipliers[m],
                                 shifts[s] > 0 ? 0 : shifts[s], 127, multipliers[m], shifts[s], -128, 127};
      tinyflow_mul_params_t u = {128, -127, -128, multipliers[m], shifts[s], -128, 127};
      tinyflow_relu_params_t r = {-128, 127, multipliers[m], shifts[s], -128, 127, 256};
      tinyflow_quantize_params_t q = {0.001f, -128, 127, multipliers[m], shifts[s], 256};
      int32_t wide[256];
      bad |= tinyflow_add_s8(&a, &b, all8, all8, out8); mix(out8, 256);
      bad |= tinyflow_mul_s8(&u, &b, all8, all8, out8); mix(out8, 256);
      bad |= tinyflow_relu_s8(&r, all8, out8); mix(out8, 256);
      bad |= tinyflow_requantize(&q, TINYFLOW_DTYPE_INT8, all8, TINYFLOW_DTYPE_INT32, wide); mix(wide, sizeof wide);
    }
  }
  printf("binary %08x\n", sum);
  return bad;
}

static int transcendental(void) {
  int bad = 0, shift;
  for (shift = 0; shift <= 31; ++shift) {
    tinyflow_softmax_params_t sp = {INT32_MAX, shift, -2147483647, 16, 16};
    tinyflow_sigmoid_params_t lp = {-128, 1 << 30, INT32_MAX, shift < 30 ? shift : 30, 256};
    int16_t out16[256];
    bad |= tinyflow_softmax_s8(&sp, all8, out8); mix(out8, 256);
    bad |= tinyflow_softmax_s8_s16(&sp, all8, out16); mix(out16, sizeof out16);
    bad |= tinyflow_logistic_s8(&lp, all8, out8); mix(out8, 256);
    bad |= tinyflow_tanh_s8(&lp, all8, out8); mix(out8, 256);
  }
  printf("transcendental %08x\n", sum);
  return bad;
}

static int shape_ops(void) {
  static const float extremes[] = {1e30f, -1e30f, 0.5f, -0.5f, 2.5f, -2.5f, 1e-30f, 0.0f};
  tinyflow_quantize_params_t q = {1e-3f, 0, -128, 0, 0, 8};
  tinyflow_dequantize_params_t dq = {3e38f, 127, 256};
  tinyflow_mean_params_t mp = {-128, 127, INT32_MAX, -31, 256, {1, 1, 1, 1, 1, 1}, {0, 0, 0, 0, 0, 0},
                               {1, 1, 1, 1, 16, 16}, {0, 0, 0, 0, 16, 1}};
  tinyflow_concat_params_t cp = {2, 4, {32, 32}};
  tinyflow_concat_requant_t cq = {{1e9f, -1e9f}, {-128, 127}, 127};
  tinyflow_pad_params_t pp = {1, {1, 1, 1, 1, 4, 4}, {1, 1, 1, 1, 8, 8}, {0, 0, 0, 0, 2, 2}, {0x7f, 0, 0, 0}};
  tinyflow_relu6_params_t r6 = {-128, 127, 256};
  const void *halves[2] = {all8, all8 + 128};
  const int8_t *halves8[2] = {all8, all8 + 128};
  float f[256];
  int8_t big[64];
  int bad = 0;
  bad |= tinyflow_quantize_f32(&q, extremes, TINYFLOW_DTYPE_INT8, out8); mix(out8, 8);
  bad |= tinyflow_dequantize(&dq, TINYFLOW_DTYPE_INT8, all8, f); mix(f, sizeof f);
  bad |= tinyflow_mean_s8(&mp, all8, out8); mix(out8, 1);
  bad |= tinyflow_concatenation(&cp, halves, out8); mix(out8, 256);
  bad |= tinyflow_concatenation_requant_s8(&cp, &cq, halves8, out8); mix(out8, 256);
  bad |= tinyflow_pad(&pp, all8, big); mix(big, sizeof big);
  bad |= tinyflow_relu6_s8(&r6, all8, out8); mix(out8, 256);
  bad |= tinyflow_reshape(all8, out8, 256); mix(out8, 256);
  bad |= tinyflow_lut_s8(all8, all8, out8, 256); mix(out8, 256);
  if (tinyflow_lut_s8(all8, all8, out8, -1) == 0) bad = 1;
  {
    /* 16 filters (rank 2) x 8 memory over 16 inputs, saturating scales and offsets. */
    tinyflow_svdf_params_t sp = {1, 16, 16, 2, 8, -128, 127, -128, INT32_MAX, 10, INT32_MAX, 10};
    static const int32_t bias[8] = {INT32_MAX, INT32_MIN, 0, 1, -1, 1000, -1000, 7};
    int8_t state[128];
    int step;
    tinyflow_svdf_reset_state(&sp, state);
    for (step = 0; step < 10; ++step) {
      bad |= tinyflow_svdf_s8(&sp, all8 + step, all8, all8 + 128, bias, state, out8); mix(out8, 8);
    }
    sp.rank = 3; /* 16 filters do not split into rank-3 units */
    if (tinyflow_svdf_s8(&sp, all8, all8, all8, bias, state, out8) == 0) bad = 1;
  }
  /* Invalid parameters are refused with a status, not run. */
  pp.left[5] = 9;
  if (tinyflow_pad(&pp, all8, big) == 0) bad = 1;
  cp.num_inputs = 99;
  if (tinyflow_concatenation(&cp, halves, out8) == 0) bad = 1;
  printf("shape %08x\n", sum);
  return bad;
}

int main(void) {
  int i, bad = 0;
  for (i = 0; i < 256; ++i) all8[i] = (int8_t)(i - 128);
  bad |= binary_ops();
  bad |= transcendental();
  bad |= shape_ops();
  printf(bad ? "FAIL\n" : "OK\n");
  return bad ? 1 : 0;
}
