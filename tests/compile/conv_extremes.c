/* Drives CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and the pools through extreme parameters
 * and inputs (saturating accumulators, every multiplier/shift extreme the host can emit, padding
 * larger than the filter, dilations, groups, invalid parameters); built with ASan/UBSan by
 * test_conv_sanitized.py. Buffers are exactly sized, so any out-of-bounds access is caught.
 * Prints a checksum line per kernel and "OK". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinyflow/kernels/conv_2d.h"
#include "tinyflow/kernels/depthwise_conv_2d.h"
#include "tinyflow/kernels/fully_connected.h"
#include "tinyflow/kernels/pooling.h"

static uint32_t sum;
static const int32_t multipliers[] = {0, 1, 1 << 30, INT32_MAX};
static const int32_t shifts[] = {-31, -10, 0, 10, 30};

static void mix(const int8_t *p, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) sum = sum * 31u + (uint8_t)p[i];
}

/* An exactly sized heap copy so ASan sees any access past the end. */
static int8_t *filled(int32_t n, int8_t v) {
  int8_t *p = (int8_t *)malloc((size_t)n);
  memset(p, v, (size_t)n);
  return p;
}

static int32_t *fill32(int32_t n, int32_t v) {
  int32_t *p = (int32_t *)malloc((size_t)n * sizeof(int32_t));
  int32_t i;
  for (i = 0; i < n; ++i) p[i] = v;
  return p;
}

static int conv(void) {
  /* input 5x4x4 (groups 2), filter 3x3, dilation 2, stride 2, pad 3 (more than the filter reach) */
  tinyflow_conv_params_t p = {2, 5, 4, 4, 3, 3, 2, 4, 3, 6, 2, 2, 2, 2, 3, 3, 128, -128, -128, 127};
  int32_t in_n = 2 * 5 * 4 * 4, f_n = 6 * 3 * 3 * 2, out_n = 2 * 4 * 3 * 6, bad = 0;
  size_t m, s;
  int8_t v;
  for (v = -128; v <= 0; v = (int8_t)(v + 127)) {
    int8_t *in = filled(in_n, v), *f = filled(f_n, -128), *out = filled(out_n, 0);
    for (m = 0; m < 4; ++m) {
      for (s = 0; s < 5; ++s) {
        int32_t *mu = fill32(6, multipliers[m]), *sh = fill32(6, shifts[s]), *b = fill32(6, INT32_MAX);
        bad |= tinyflow_conv_2d_s8(&p, mu, sh, in, f, b, out) != 0;
        bad |= tinyflow_conv_2d_s8(&p, mu, sh, in, f, NULL, out) != 0;
        mix(out, out_n);
        free(mu); free(sh); free(b);
      }
    }
    free(in); free(f); free(out);
    if (v == 0) break;
  }
  p.stride_h = 0;
  bad |= tinyflow_conv_2d_s8(&p, NULL, NULL, NULL, NULL, NULL, NULL) != TINYFLOW_KERNEL_EINVAL;
  printf("conv %08x\n", sum);
  return bad;
}

static int depthwise(void) {
  tinyflow_dwconv_params_t p = {1, 3, 7, 2, 4, 2, 3, 3, 4, 6, 1, 2, 1, 2, 2, 1, -127, 127, -128, 127};
  int32_t in_n = 3 * 7 * 2, f_n = 4 * 2 * 6, out_n = 3 * 4 * 6, bad = 0;
  size_t m, s;
  int8_t *in = filled(in_n, 127), *f = filled(f_n, 127), *out = filled(out_n, 0);
  for (m = 0; m < 4; ++m) {
    for (s = 0; s < 5; ++s) {
      int32_t *mu = fill32(6, multipliers[m]), *sh = fill32(6, shifts[s]), *b = fill32(6, INT32_MIN);
      bad |= tinyflow_depthwise_conv_2d_s8(&p, mu, sh, in, f, b, out) != 0;
      mix(out, out_n);
      free(mu); free(sh); free(b);
    }
  }
  free(in); free(f); free(out);
  p.output_c = 5;
  bad |= tinyflow_depthwise_conv_2d_s8(&p, NULL, NULL, NULL, NULL, NULL, NULL) != TINYFLOW_KERNEL_EINVAL;
  printf("depthwise %08x\n", sum);
  return bad;
}

static int fully_connected(void) {
  tinyflow_fc_params_t p = {3, 37, 5, 127, -128, 127};
  int32_t bad = 0;
  size_t m, s;
  int8_t *in = filled(3 * 37, -128), *f = filled(5 * 37, -128), *out = filled(3 * 5, 0);
  for (m = 0; m < 4; ++m) {
    for (s = 0; s < 5; ++s) {
      int32_t *mu = fill32(5, multipliers[m]), *sh = fill32(5, shifts[s]), *b = fill32(5, INT32_MAX);
      bad |= tinyflow_fully_connected_s8(&p, mu, sh, in, f, b, out) != 0;
      mix(out, 15);
      free(mu); free(sh); free(b);
    }
  }
  free(in); free(f); free(out);
  p.accum_depth = 0;
  bad |= tinyflow_fully_connected_s8(&p, NULL, NULL, NULL, NULL, NULL, NULL) != TINYFLOW_KERNEL_EINVAL;
  printf("fully_connected %08x\n", sum);
  return bad;
}

static int pools(void) {
  tinyflow_pool_params_t p = {2, 3, 5, 3, 4, 4, 2, 3, 2, 2, 1, 1, -100, 100};
  int32_t in_n = 2 * 3 * 5 * 3, out_n = 2 * 2 * 3 * 3, bad = 0;
  int8_t *in = filled(in_n, -128), *out = filled(out_n, 0);
  bad |= tinyflow_avg_pool_s8(&p, in, out) != 0 || out[0] != -100;
  mix(out, out_n);
  memset(in, 127, (size_t)in_n);
  bad |= tinyflow_max_pool_s8(&p, in, out) != 0 || out[0] != 100;
  mix(out, out_n);
  p.pad_h = 9; /* every window empty: TFLM fails, so must we */
  bad |= tinyflow_avg_pool_s8(&p, in, out) != TINYFLOW_KERNEL_EINVAL;
  free(in); free(out);
  printf("pooling %08x\n", sum);
  return bad;
}

int main(void) {
  int bad = conv() | depthwise() | fully_connected() | pools();
  puts(bad ? "FAILED" : "OK");
  return bad;
}
