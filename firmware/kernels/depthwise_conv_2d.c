/* DEPTHWISE_CONV_2D int8 (TFLM reference_integer_ops::DepthwiseConvPerChannel); see
 * tinyflow/kernels/depthwise_conv_2d.h. Valid tap ranges are computed per row/column, so
 * padding costs no per-tap branch. */
#include "tinyflow/kernels/depthwise_conv_2d.h"

int tinyflow_depthwise_conv_2d_s8(const tinyflow_dwconv_params_t *p, const int32_t *multiplier,
                                  const int32_t *shift, const int8_t *input, const int8_t *filter,
                                  const int32_t *bias, int8_t *output) {
  const int32_t ic_n = p->input_c, oc_n = p->output_c, dm = p->depth_multiplier;
  const int32_t in_off = p->input_offset;
  int32_t b, oy, ox, ic, m, fy, fx;
  if (!tinyflow_dwconv_params_ok(p)) return TINYFLOW_KERNEL_EINVAL;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in_b = input + (int32_t)b * p->input_h * p->input_w * ic_n;
    for (oy = 0; oy < p->output_h; ++oy) {
      const int32_t iy0 = oy * p->stride_h - p->pad_h;
      int32_t fy0, fy1;
      tinyflow_tap_range(iy0, p->dilation_h, p->filter_h, p->input_h, &fy0, &fy1);
      for (ox = 0; ox < p->output_w; ++ox) {
        const int32_t ix0 = ox * p->stride_w - p->pad_w;
        int8_t *out = output + ((b * p->output_h + oy) * p->output_w + ox) * oc_n;
        int32_t fx0, fx1;
        tinyflow_tap_range(ix0, p->dilation_w, p->filter_w, p->input_w, &fx0, &fx1);
        ic = 0;
        if (dm == 1) { /* four channels at a time: contiguous input and filter bytes */
          for (; ic + 4 <= ic_n; ic += 4) {
            int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, k;
            int32_t acc[4];
            for (fy = fy0; fy < fy1; ++fy) {
              const int32_t iy = iy0 + fy * p->dilation_h;
              for (fx = fx0; fx < fx1; ++fx) {
                const int8_t *x = in_b + (iy * p->input_w + ix0 + fx * p->dilation_w) * ic_n + ic;
                const int8_t *w = filter + (fy * p->filter_w + fx) * oc_n + ic;
                a0 += (x[0] + in_off) * w[0];
                a1 += (x[1] + in_off) * w[1];
                a2 += (x[2] + in_off) * w[2];
                a3 += (x[3] + in_off) * w[3];
              }
            }
            acc[0] = a0;
            acc[1] = a1;
            acc[2] = a2;
            acc[3] = a3;
            for (k = 0; k < 4; ++k) {
              int32_t a = acc[k];
              if (bias != 0) a = (int32_t)((uint32_t)a + (uint32_t)bias[ic + k]);
              out[ic + k] = tinyflow_requantize_s8(a, multiplier[ic + k], shift[ic + k], p->output_offset,
                                                   p->act_min, p->act_max);
            }
          }
        }
        for (; ic < ic_n; ++ic) {
          for (m = 0; m < dm; ++m) {
            const int32_t oc = ic * dm + m;
            int32_t acc = 0;
            for (fy = fy0; fy < fy1; ++fy) {
              const int32_t iy = iy0 + fy * p->dilation_h;
              const int8_t *x = in_b + (iy * p->input_w + ix0) * ic_n + ic;
              const int8_t *w = filter + fy * p->filter_w * oc_n + oc;
              for (fx = fx0; fx < fx1; ++fx) {
                acc += (x[fx * p->dilation_w * ic_n] + in_off) * w[fx * oc_n];
              }
            }
            if (bias != 0) acc = (int32_t)((uint32_t)acc + (uint32_t)bias[oc]);
            out[oc] = tinyflow_requantize_s8(acc, multiplier[oc], shift[oc], p->output_offset, p->act_min,
                                             p->act_max);
          }
        }
      }
    }
  }
  return TINYFLOW_KERNEL_OK;
}
