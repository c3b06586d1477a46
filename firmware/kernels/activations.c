/* RELU / RELU6 int8; see tinyflow/kernels/activations.h. */
#include "tinyflow/kernels/activations.h"
#include "tinyflow/kernels/fixedpoint.h"
#include "tinyflow/kernels/shape.h"

int tinyflow_relu_s8(const tinyflow_relu_params_t *p, const int8_t *input, int8_t *output) {
  int32_t i;
  if (p->size < 0) return TINYFLOW_KERNEL_EINVAL;
  for (i = 0; i < p->size; ++i) {
    int32_t v = p->output_offset +
                tinyflow_mbqm((int32_t)input[i] - p->input_offset, p->output_multiplier, p->output_shift);
    if (v < p->act_min) v = p->act_min;
    if (v > p->act_max) v = p->act_max;
    output[i] = (int8_t)v;
  }
  return TINYFLOW_KERNEL_OK;
}

int tinyflow_relu6_s8(const tinyflow_relu6_params_t *p, const int8_t *input, int8_t *output) {
  int32_t i;
  if (p->size < 0) return TINYFLOW_KERNEL_EINVAL;
  for (i = 0; i < p->size; ++i) {
    const int8_t v = input[i];
    output[i] = v > p->upper ? p->upper : (v < p->lower ? p->lower : v);
  }
  return TINYFLOW_KERNEL_OK;
}
