/* TANH int8 (TFLM reference_integer_ops::Tanh); see tinyflow/kernels/tanh.h. */
#include "tinyflow/kernels/tanh.h"
#include "tinyflow/kernels/fixedpoint.h"
#include "tinyflow/kernels/shape.h"

#define INPUT_INT_BITS 4

int tinyflow_tanh_s8(const tinyflow_sigmoid_params_t *p, const int8_t *input, int8_t *output) {
  int32_t i;
  if (p->size < 0) return TINYFLOW_KERNEL_EINVAL;
  for (i = 0; i < p->size; ++i) {
    const int32_t x = (int32_t)input[i] - p->input_zero_point;
    if (x <= -p->input_range_radius) {
      output[i] = -128;
    } else if (x >= p->input_range_radius) {
      output[i] = 127;
    } else {
      const int32_t in_q4 = tinyflow_mbqm(x, p->input_multiplier, p->input_left_shift);
      int32_t out = tinyflow_rdivpot(tinyflow_fp_tanh(in_q4, INPUT_INT_BITS), 31 - 7);
      if (out < -128) out = -128;
      if (out > 127) out = 127;
      output[i] = (int8_t)out;
    }
  }
  return TINYFLOW_KERNEL_OK;
}
