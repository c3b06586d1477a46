/* ADD int8 (TFLM reference_integer_ops::AddFunc); see tinyflow/kernels/add.h. */
#include "tinyflow/kernels/add.h"
#include "tinyflow/kernels/fixedpoint.h"

static int8_t add_one(const tinyflow_add_params_t *p, int8_t x, int8_t y) {
  const int32_t shifted1 = (p->input1_offset + x) * (1 << p->left_shift);
  const int32_t shifted2 = (p->input2_offset + y) * (1 << p->left_shift);
  const int32_t scaled1 = tinyflow_mbqm(shifted1, p->input1_multiplier, p->input1_shift);
  const int32_t scaled2 = tinyflow_mbqm(shifted2, p->input2_multiplier, p->input2_shift);
  int32_t out = tinyflow_mbqm(scaled1 + scaled2, p->output_multiplier, p->output_shift) + p->output_offset;
  if (out < p->act_min) out = p->act_min;
  if (out > p->act_max) out = p->act_max;
  return (int8_t)out;
}

int tinyflow_add_s8(const tinyflow_add_params_t *p, const tinyflow_broadcast_t *b,
                    const int8_t *input1, const int8_t *input2, int8_t *output) {
  const int32_t count = tinyflow_shape_count(b->dims);
  const int32_t inner = b->dims[TINYFLOW_KERNEL_MAX_DIMS - 1];
  const int32_t s1 = b->strides1[TINYFLOW_KERNEL_MAX_DIMS - 1];
  const int32_t s2 = b->strides2[TINYFLOW_KERNEL_MAX_DIMS - 1];
  int32_t rows, r, i;
  if (count < 0 || p->left_shift < 0 || p->left_shift > 20) return TINYFLOW_KERNEL_EINVAL;
  if (count == 0) return TINYFLOW_KERNEL_OK;
  rows = count / inner;
  for (r = 0; r < rows; ++r) {
    int32_t o1, o2;
    tinyflow_broadcast_row(b, r, &o1, &o2);
    for (i = 0; i < inner; ++i) {
      output[r * inner + i] = add_one(p, input1[o1 + i * s1], input2[o2 + i * s2]);
    }
  }
  return TINYFLOW_KERNEL_OK;
}
