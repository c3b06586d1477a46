/* CONV_2D int8 (per-channel or per-tensor weights), bit-exact with TFLM
 * reference_integer_ops::ConvPerChannel. Every field is computed and checked on the host. */
#ifndef TINYFLOW_KERNELS_CONV_2D_H
#define TINYFLOW_KERNELS_CONV_2D_H

#include <stdint.h>
#include "tinyflow/kernels/common.h"

typedef struct {
  int32_t batches, input_h, input_w, input_c;
  int32_t filter_h, filter_w, filter_c;  /* filter_c = input_c / groups */
  int32_t output_h, output_w, output_c;
  int32_t stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w;
  int32_t input_offset, output_offset, act_min, act_max;
} tinyflow_conv_params_t;

/* filter is [output_c][filter_h][filter_w][filter_c]; bias (may be NULL) and the requantization
 * arrays have output_c entries (per-tensor models repeat one value). */
int tinyflow_conv_2d_s8(const tinyflow_conv_params_t *p, const int32_t *multiplier, const int32_t *shift,
                        const int8_t *input, const int8_t *filter, const int32_t *bias, int8_t *output);

/* Parameter checks shared by the portable and Cortex-M4 kernels (once per call). */
TINYFLOW_INLINE int tinyflow_conv_params_ok(const tinyflow_conv_params_t *p) {
  if (p->batches < 1 || p->input_h < 1 || p->input_w < 1 || p->input_c < 1) return 0;
  if (p->filter_h < 1 || p->filter_w < 1 || p->filter_c < 1 || p->input_c % p->filter_c != 0) return 0;
  if (p->output_h < 1 || p->output_w < 1 || p->output_c < 1) return 0;
  if (p->output_c % (p->input_c / p->filter_c) != 0) return 0;
  if (p->stride_h < 1 || p->stride_w < 1 || p->dilation_h < 1 || p->dilation_w < 1) return 0;
  if (p->pad_h < 0 || p->pad_w < 0 || p->act_min > p->act_max) return 0;
  return 1;
}

#endif /* TINYFLOW_KERNELS_CONV_2D_H */
