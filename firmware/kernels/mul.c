/* MUL int8 (TFLM reference_integer_ops::MulElementwise); see tinyflow/kernels/mul.h. */
#include "tinyflow/kernels/mul.h"
#include "tinyflow/kernels/fixedpoint.h"

int tinyflow_mul_s8(const tinyflow_mul_params_t *p, const tinyflow_broadcast_t *b,
                    const int8_t *input1, const int8_t *input2, int8_t *output) {
  const int32_t count = tinyflow_shape_count(b->dims);
  const int32_t inner = b->dims[TINYFLOW_KERNEL_MAX_DIMS - 1];
  const int32_t s1 = b->strides1[TINYFLOW_KERNEL_MAX_DIMS - 1];
  const int32_t s2 = b->strides2[TINYFLOW_KERNEL_MAX_DIMS - 1];
  int32_t rows, r, i;
  if (count < 0) return TINYFLOW_KERNEL_EINVAL;
  if (count == 0) return TINYFLOW_KERNEL_OK;
  rows = count / inner;
  for (r = 0; r < rows; ++r) {
    int32_t o1, o2;
    tinyflow_broadcast_row(b, r, &o1, &o2);
    for (i = 0; i < inner; ++i) {
      const int32_t a = p->input1_offset + input1[o1 + i * s1];
      const int32_t c = p->input2_offset + input2[o2 + i * s2];
      int32_t out = p->output_offset + tinyflow_mbqm(a * c, p->output_multiplier, p->output_shift);
      if (out < p->act_min) out = p->act_min;
      if (out > p->act_max) out = p->act_max;
      output[r * inner + i] = (int8_t)out;
    }
  }
  return TINYFLOW_KERNEL_OK;
}
