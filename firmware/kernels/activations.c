/* RELU / RELU6 int8; see tinyflow/kernels/activations.h. */
#include "tinyflow/kernels/activations.h"
#include "tinyflow/kernels/fixedpoint.h"
#include "tinyflow/kernels/shape.h"

int tinyflow_relu_s8(const tinyflow_relu_params_t *p, const int8_t *input, int8_t *output) {
  const int32_t in_off = p->input_offset, out_off = p->output_offset, m = p->output_multiplier;
  const int32_t act_min = p->act_min, act_max = p->act_max, size = p->size;
  const int left = p->output_shift > 0 ? (int)p->output_shift : 0;
  const int right = p->output_shift > 0 ? 0 : (int)-p->output_shift;
  int32_t i;
  if (size < 0 || m < 0 || !tinyflow_shift_ok(p->output_shift)) return TINYFLOW_KERNEL_EINVAL;
  for (i = 0; i < size; ++i) {
    output[i] = (int8_t)tinyflow_clamp(out_off + tinyflow_fp_requant((int32_t)input[i] - in_off, m, left, right),
                                       act_min, act_max);
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
