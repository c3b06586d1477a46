/* MEAN int8 (TFLM reference_ops::QuantizedMeanOrSum); see tinyflow/kernels/mean.h. */
#include "tinyflow/kernels/mean.h"
#include "tinyflow/kernels/fixedpoint.h"

/* Input offset of element `index` of a (dims, strides) iteration space. */
static int32_t offset_of(const int32_t *dims, const int32_t *strides, int32_t index) {
  int32_t off = 0;
  int d;
  for (d = TINYFLOW_KERNEL_MAX_DIMS - 1; d >= 0; --d) {
    off += (index % dims[d]) * strides[d];
    index /= dims[d];
  }
  return off;
}

int tinyflow_mean_s8(const tinyflow_mean_params_t *p, const int8_t *input, int8_t *output) {
  const int32_t outputs = tinyflow_shape_count(p->kept_dims);
  const int32_t reduced = tinyflow_shape_count(p->reduced_dims);
  const int32_t inner = p->reduced_dims[TINYFLOW_KERNEL_MAX_DIMS - 1];
  const int32_t inner_stride = p->reduced_strides[TINYFLOW_KERNEL_MAX_DIMS - 1];
  int32_t o, r, i;
  if (outputs < 0 || reduced <= 0 || reduced != p->num_reduced) return TINYFLOW_KERNEL_EINVAL;
  for (o = 0; o < outputs; ++o) {
    const int8_t *base = input + offset_of(p->kept_dims, p->kept_strides, o);
    int32_t sum = 0, v;
    for (r = 0; r < reduced / inner; ++r) {
      const int8_t *row = base + offset_of(p->reduced_dims, p->reduced_strides, r * inner);
      for (i = 0; i < inner; ++i) sum = tinyflow_fp_add(sum, row[i * inner_stride]);
    }
    /* int32 arithmetic wraps as in TFLM (sum - zp * n in U = int32). */
    sum = tinyflow_fp_sub(sum, (int32_t)((uint32_t)p->input_zero_point * (uint32_t)p->num_reduced));
    v = tinyflow_fp_add(tinyflow_mbqm(sum, p->multiplier, p->shift), p->output_zero_point);
    output[o] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
  }
  return TINYFLOW_KERNEL_OK;
}
