/* CONV_2D int8 (TFLM reference_integer_ops::ConvPerChannel); see tinyflow/kernels/conv_2d.h.
 * No im2col: each output pixel walks the valid filter taps directly; the valid tap range is
 * computed once per row/column so the inner loop is a bare multiply-accumulate over channels,
 * four output channels at a time (one input load feeds four filters). */
#include "tinyflow/kernels/conv_2d.h"

/* Four output channels of one pixel at once: each input byte loaded is used four times. */
static void conv_block4(const tinyflow_conv_params_t *p, const int8_t *in_g, const int8_t *w_oc, int32_t iy0,
                        int32_t ix0, int32_t fy0, int32_t fy1, int32_t fx0, int32_t fx1, int32_t *acc) {
  const int32_t fc = p->filter_c, ic = p->input_c, in_off = p->input_offset;
  const int32_t tap_stride = p->filter_w * fc, fsize = p->filter_h * tap_stride;
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, fy, fx, c;
  for (fy = fy0; fy < fy1; ++fy) {
    const int32_t iy = iy0 + fy * p->dilation_h;
    for (fx = fx0; fx < fx1; ++fx) {
      const int8_t *x = in_g + (iy * p->input_w + ix0 + fx * p->dilation_w) * ic;
      const int8_t *w = w_oc + fy * tap_stride + fx * fc;
      for (c = 0; c < fc; ++c) {
        const int32_t xv = x[c] + in_off;
        a0 += xv * w[c];
        a1 += xv * w[fsize + c];
        a2 += xv * w[2 * fsize + c];
        a3 += xv * w[3 * fsize + c];
      }
    }
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}

static int32_t conv_one(const tinyflow_conv_params_t *p, const int8_t *in_g, const int8_t *w_oc, int32_t iy0,
                        int32_t ix0, int32_t fy0, int32_t fy1, int32_t fx0, int32_t fx1) {
  const int32_t fc = p->filter_c, ic = p->input_c, in_off = p->input_offset;
  const int32_t tap_stride = p->filter_w * fc;
  int32_t acc = 0, fy, fx, c;
  for (fy = fy0; fy < fy1; ++fy) {
    const int32_t iy = iy0 + fy * p->dilation_h;
    for (fx = fx0; fx < fx1; ++fx) {
      const int8_t *x = in_g + (iy * p->input_w + ix0 + fx * p->dilation_w) * ic;
      const int8_t *w = w_oc + fy * tap_stride + fx * fc;
      for (c = 0; c < fc; ++c) acc += (x[c] + in_off) * w[c];
    }
  }
  return acc;
}

int tinyflow_conv_2d_s8(const tinyflow_conv_params_t *p, const int32_t *multiplier, const int32_t *shift,
                        const int8_t *input, const int8_t *filter, const int32_t *bias, int8_t *output) {
  const int32_t fc = p->filter_c, ic = p->input_c, oc_n = p->output_c;
  int32_t b, oy, ox, oc, k, oc_per_group, fsize;
  if (!tinyflow_conv_params_ok(p)) return TINYFLOW_KERNEL_EINVAL;
  oc_per_group = oc_n / (ic / fc);
  fsize = p->filter_h * p->filter_w * fc;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in_b = input + (int32_t)b * p->input_h * p->input_w * ic;
    for (oy = 0; oy < p->output_h; ++oy) {
      const int32_t iy0 = oy * p->stride_h - p->pad_h;
      int32_t fy0, fy1;
      tinyflow_tap_range(iy0, p->dilation_h, p->filter_h, p->input_h, &fy0, &fy1);
      for (ox = 0; ox < p->output_w; ++ox) {
        const int32_t ix0 = ox * p->stride_w - p->pad_w;
        int8_t *out = output + ((b * p->output_h + oy) * p->output_w + ox) * oc_n;
        int32_t fx0, fx1;
        tinyflow_tap_range(ix0, p->dilation_w, p->filter_w, p->input_w, &fx0, &fx1);
        /* Output pixel (b, oy, ox) is finished before the next one reads any input: the planner's
         * overlap of output over input relies on this raster order. */
        for (oc = 0; oc < oc_n;) {
          const int8_t *in_g = in_b + (oc / oc_per_group) * fc;
          int32_t acc[4], n = 1;
          if (oc + 4 <= oc_n && oc / oc_per_group == (oc + 3) / oc_per_group) {
            conv_block4(p, in_g, filter + oc * fsize, iy0, ix0, fy0, fy1, fx0, fx1, acc);
            n = 4;
          } else {
            acc[0] = conv_one(p, in_g, filter + oc * fsize, iy0, ix0, fy0, fy1, fx0, fx1);
          }
          for (k = 0; k < n; ++k, ++oc) {
            int32_t a = acc[k];
            if (bias != 0) a = (int32_t)((uint32_t)a + (uint32_t)bias[oc]);
            out[oc] = tinyflow_requantize_s8(a, multiplier[oc], shift[oc], p->output_offset, p->act_min, p->act_max);
          }
        }
      }
    }
  }
  return TINYFLOW_KERNEL_OK;
}
