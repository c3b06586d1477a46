/* FULLY_CONNECTED int8 for Cortex-M4 (DSP): same function and results as
 * firmware/kernels/fully_connected.c. The input offset is folded into the bias on the host, so
 * the dot products are plain int8; four output rows share each widened word of input. */
#include "tinyflow/kernels/fully_connected.h"

#include "simd.h"

/* acc[k] = sum_i x[i] * w[k * depth + i] for k < 4. */
static void dot_rows4(const int8_t *x, const int8_t *w, int32_t depth, int32_t *acc) {
  const int8_t *w0 = w, *w1 = w + depth, *w2 = w1 + depth, *w3 = w2 + depth;
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, i = 0;
  for (; i + 4 <= depth; i += 4) {
    const int32_t xv = tinyflow_m4_load4(x + i);
    const int32_t xe = __sxtb16(xv), xo = tinyflow_m4_sxtb16_ror8(xv);
    int32_t wv = tinyflow_m4_load4(w0 + i);
    a0 = __smlad(xe, __sxtb16(wv), a0);
    a0 = __smlad(xo, tinyflow_m4_sxtb16_ror8(wv), a0);
    wv = tinyflow_m4_load4(w1 + i);
    a1 = __smlad(xe, __sxtb16(wv), a1);
    a1 = __smlad(xo, tinyflow_m4_sxtb16_ror8(wv), a1);
    wv = tinyflow_m4_load4(w2 + i);
    a2 = __smlad(xe, __sxtb16(wv), a2);
    a2 = __smlad(xo, tinyflow_m4_sxtb16_ror8(wv), a2);
    wv = tinyflow_m4_load4(w3 + i);
    a3 = __smlad(xe, __sxtb16(wv), a3);
    a3 = __smlad(xo, tinyflow_m4_sxtb16_ror8(wv), a3);
  }
  for (; i < depth; ++i) {
    a0 += x[i] * w0[i];
    a1 += x[i] * w1[i];
    a2 += x[i] * w2[i];
    a3 += x[i] * w3[i];
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

static int32_t dot_row(const int8_t *x, const int8_t *w, int32_t depth) {
  int32_t a = 0, i = 0;
  for (; i + 4 <= depth; i += 4) {
    const int32_t xv = tinyflow_m4_load4(x + i), wv = tinyflow_m4_load4(w + i);
    a = __smlad(__sxtb16(xv), __sxtb16(wv), a);
    a = __smlad(tinyflow_m4_sxtb16_ror8(xv), tinyflow_m4_sxtb16_ror8(wv), a);
  }
  for (; i < depth; ++i) a += x[i] * w[i];
  return a;
}

int tinyflow_fully_connected_s8(const tinyflow_fc_params_t *p, const int32_t *multiplier, const int32_t *shift,
                                const int8_t *input, const int8_t *filter, const int32_t *folded_bias,
                                int8_t *output) {
  const int32_t depth = p->accum_depth, n_out = p->output_depth;
  if (p->batches < 1 || depth < 1 || n_out < 1 || p->act_min > p->act_max) return TINYFLOW_KERNEL_EINVAL;
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *x = input + b * depth;
    int8_t *out = output + b * n_out;
    for (int32_t o = 0; o < n_out;) {
      int32_t acc[4];
      const int32_t count = o + 4 <= n_out ? 4 : 1;
      if (count == 4) dot_rows4(x, filter + o * depth, depth, acc);
      else acc[0] = dot_row(x, filter + o * depth, depth);
      for (int32_t k = 0; k < count; ++k, ++o) {
        const int32_t a = (int32_t)((uint32_t)acc[k] + (uint32_t)folded_bias[o]);
        out[o] = tinyflow_requantize_s8(a, multiplier[o], shift[o], p->output_offset, p->act_min, p->act_max);
      }
    }
  }
  return TINYFLOW_KERNEL_OK;
}
