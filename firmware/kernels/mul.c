/* MUL int8 (TFLM reference_integer_ops::MulElementwise); see tinyflow/kernels/mul.h.
 * Parameters live in locals: int8 stores may alias them, which would force a reload per element. */
#include "tinyflow/kernels/mul.h"
#include "tinyflow/kernels/fixedpoint.h"

int tinyflow_mul_s8(const tinyflow_mul_params_t *p, const tinyflow_broadcast_t *b,
                    const int8_t *input1, const int8_t *input2, int8_t *output) {
  const int32_t count = tinyflow_shape_count(b->dims);
  const int32_t inner = b->dims[TINYFLOW_KERNEL_MAX_DIMS - 1];
  const int32_t s1 = b->strides1[TINYFLOW_KERNEL_MAX_DIMS - 1];
  const int32_t s2 = b->strides2[TINYFLOW_KERNEL_MAX_DIMS - 1];
  const int32_t off1 = p->input1_offset, off2 = p->input2_offset, off_out = p->output_offset;
  const int32_t m = p->output_multiplier, act_min = p->act_min, act_max = p->act_max;
  const int left = p->output_shift > 0 ? (int)p->output_shift : 0;
  const int right = p->output_shift > 0 ? 0 : (int)-p->output_shift;
  int32_t rows, r, i;
  if (count < 0 || m < 0 || !tinyflow_shift_ok(p->output_shift)) return TINYFLOW_KERNEL_EINVAL;
  if (count == 0) return TINYFLOW_KERNEL_OK;
  rows = count / inner;
  for (r = 0; r < rows; ++r) {
    int32_t o1, o2;
    tinyflow_broadcast_row(b, r, &o1, &o2);
    for (i = 0; i < inner; ++i) {
      const int32_t a = off1 + input1[o1 + i * s1];
      const int32_t c = off2 + input2[o2 + i * s2];
      output[r * inner + i] = (int8_t)tinyflow_clamp(off_out + tinyflow_fp_requant(a * c, m, left, right), act_min, act_max);
    }
  }
  return TINYFLOW_KERNEL_OK;
}
