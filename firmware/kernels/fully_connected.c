/* FULLY_CONNECTED int8 (TFLM reference_integer_ops::FullyConnected); see
 * tinyflow/kernels/fully_connected.h. The input offset is folded into the bias on the host. */
#include "tinyflow/kernels/fully_connected.h"

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
#include <string.h>

/* Two int8 pairs at once: sign-extend bytes 0,2 and 1,3 into halfwords, then SMLAD. The sum is
 * the same integer as the portable loop's (addition is exact in int32 here). */
static int32_t ror8(int32_t v) { return (int32_t)(((uint32_t)v >> 8) | ((uint32_t)v << 24)); }

static int32_t dot_s8(const int8_t *x, const int8_t *w, int32_t n) {
  int32_t acc = 0, k = 0;
  for (; k + 4 <= n; k += 4) {
    int32_t xv, wv;
    memcpy(&xv, x + k, 4);
    memcpy(&wv, w + k, 4);
    acc = __smlad(__sxtb16(xv), __sxtb16(wv), acc);
    acc = __smlad(__sxtb16(ror8(xv)), __sxtb16(ror8(wv)), acc);
  }
  for (; k < n; ++k) acc += x[k] * w[k];
  return acc;
}
#else
static int32_t dot_s8(const int8_t *x, const int8_t *w, int32_t n) {
  int32_t acc = 0, k;
  for (k = 0; k < n; ++k) acc += x[k] * w[k];
  return acc;
}
#endif

int tinyflow_fully_connected_s8(const tinyflow_fc_params_t *p, const int32_t *multiplier, const int32_t *shift,
                                const int8_t *input, const int8_t *filter, const int32_t *folded_bias,
                                int8_t *output) {
  const int32_t depth = p->accum_depth, n_out = p->output_depth;
  int32_t b, o;
  if (p->batches < 1 || depth < 1 || n_out < 1 || p->act_min > p->act_max) return TINYFLOW_KERNEL_EINVAL;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *x = input + b * depth;
    int8_t *out = output + b * n_out;
    for (o = 0; o + 4 <= n_out; o += 4) { /* four rows share each input load */
      const int8_t *w = filter + o * depth;
      int32_t a[4] = {0, 0, 0, 0}, i, k;
      for (i = 0; i < depth; ++i) {
        const int32_t xv = x[i];
        a[0] += xv * w[i];
        a[1] += xv * w[depth + i];
        a[2] += xv * w[2 * depth + i];
        a[3] += xv * w[3 * depth + i];
      }
      for (k = 0; k < 4; ++k) {
        const int32_t acc = (int32_t)((uint32_t)a[k] + (uint32_t)folded_bias[o + k]);
        out[o + k] = tinyflow_requantize_s8(acc, multiplier[o + k], shift[o + k], p->output_offset, p->act_min,
                                            p->act_max);
      }
    }
    for (; o < n_out; ++o) {
      const int32_t dot = dot_s8(x, filter + o * depth, depth);
      const int32_t acc = (int32_t)((uint32_t)dot + (uint32_t)folded_bias[o]);
      out[o] = tinyflow_requantize_s8(acc, multiplier[o], shift[o], p->output_offset, p->act_min, p->act_max);
    }
  }
  return TINYFLOW_KERNEL_OK;
}
