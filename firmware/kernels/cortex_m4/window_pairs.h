/* CONV_2D windows as vectors (im2col) for the two-pixel kernel of pointwise.h, for
 * firmware/kernels/cortex_m4/conv_2d.c (included there after gather_window; static functions
 * only). Each output pixel's window (filter_h x filter_w taps of input_c channels) is widened into
 * its slot of pairs_widened; taps outside the input widen to 0 (= zero point + input offset), as
 * the reference skips them. Then every pair of channels is one 2x2 block over k_n inputs. */
#ifndef TINYFLOW_KERNELS_CORTEX_M4_WINDOW_PAIRS_H
#define TINYFLOW_KERNELS_CORTEX_M4_WINDOW_PAIRS_H

#include "pointwise.h"

static int32_t window_k4(const tinyflow_conv_params_t *p) {
  return (p->filter_h * p->filter_w * p->input_c + 3) & ~3;
}

/* 1 when conv_window_pairs() applies: no groups, a window of 4 to PAIRS_MAX_K inputs; windows of
 * channel counts that are not a multiple of 4 pass through gathered[] (GATHER_BYTES). */
static int window_pairs_ok(const tinyflow_conv_params_t *p) {
  const int32_t k_n = p->filter_h * p->filter_w * p->input_c;
  if (p->filter_c != p->input_c || k_n < 4 || window_k4(p) > PAIRS_MAX_K) return 0;
  return p->input_c % 4 == 0 || window_k4(p) <= GATHER_BYTES;
}

/* One pixel's window into dst (slot A: pairs_widened, B: pairs_widened + 2). */
static void window_widen(const tinyflow_conv_params_t *p, const int8_t *in_b, int32_t iy0, int32_t ix0, int32_t off2,
                         int32_t *dst) {
  const int32_t ic = p->input_c;
  if (ic % 4 != 0) {
    const int32_t k_n = p->filter_h * p->filter_w * ic, k4 = window_k4(p);
    gather_window(p, in_b, iy0, ix0);
    for (int32_t i = k_n; i < k4; ++i) gathered[i] = (int8_t)(-p->input_offset); /* widens to 0 */
    pairs_widen(gathered, k4, off2, dst);
    return;
  }
  for (int32_t fy = 0; fy < p->filter_h; ++fy) {
    const int32_t iy = iy0 + fy * p->dilation_h;
    const int row_inside = iy >= 0 && iy < p->input_h;
    for (int32_t fx = 0; fx < p->filter_w; ++fx, dst += ic) {
      const int32_t ix = ix0 + fx * p->dilation_w;
      if (row_inside && ix >= 0 && ix < p->input_w) {
        pairs_widen(in_b + (iy * p->input_w + ix) * ic, ic, off2, dst);
        continue;
      }
      for (int32_t g = 0; g < ic; g += 4) dst[g] = dst[g + 1] = 0;
    }
  }
}

/* Pixels in pairs (in raster order, across rows); an odd last pixel is paired with itself. */
static void conv_window_pairs(const tinyflow_conv_params_t *p, const int32_t *multiplier, const int32_t *shift,
                              const int8_t *input, const int8_t *filter, const int32_t *bias, int8_t *output) {
  const int32_t oc_n = p->output_c, pixels = p->output_h * p->output_w, ow = p->output_w;
  const int32_t off2 = tinyflow_m4_offset2(p->input_offset);
  const pairs_t pw = pairs_setup(p, multiplier, shift, filter, bias);
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *in_b = input + b * p->input_h * p->input_w * p->input_c;
    int8_t *out_b = output + b * pixels * oc_n;
    for (int32_t i = 0; i < pixels; i += 2) {
      const int32_t j = i + 1 < pixels ? i + 1 : i;
      window_widen(p, in_b, (i / ow) * p->stride_h - p->pad_h, (i % ow) * p->stride_w - p->pad_w, off2,
                   pairs_widened);
      window_widen(p, in_b, (j / ow) * p->stride_h - p->pad_h, (j % ow) * p->stride_w - p->pad_w, off2,
                   pairs_widened + 2);
      pairs_outputs(&pw, out_b + i * oc_n, out_b + j * oc_n);
    }
  }
}

#endif /* TINYFLOW_KERNELS_CORTEX_M4_WINDOW_PAIRS_H */
