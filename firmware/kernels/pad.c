/* PAD; see tinyflow/kernels/pad.h. Fills the output with the constant, then copies input rows. */
#include <string.h>

#include "tinyflow/kernels/pad.h"

int tinyflow_pad(const tinyflow_pad_params_t *p, const void *input, void *output) {
  const int32_t es = p->element_bytes;
  const int32_t in_count = tinyflow_shape_count(p->input_dims);
  const int32_t out_count = tinyflow_shape_count(p->output_dims);
  const int32_t row = p->input_dims[TINYFLOW_KERNEL_MAX_DIMS - 1];
  uint8_t *out = (uint8_t *)output;
  const uint8_t *in = (const uint8_t *)input;
  int32_t i, r;
  int d;
  if ((es != 1 && es != 2 && es != 4) || in_count < 0 || out_count < 0) return TINYFLOW_KERNEL_EINVAL;
  for (d = 0; d < TINYFLOW_KERNEL_MAX_DIMS; ++d) {
    if (p->left[d] < 0 || p->input_dims[d] + p->left[d] > p->output_dims[d]) return TINYFLOW_KERNEL_EINVAL;
  }
  for (i = 0; i < out_count; ++i) memcpy(out + (size_t)i * es, p->pad_value, (size_t)es);
  if (in_count == 0) return TINYFLOW_KERNEL_OK;
  for (r = 0; r < in_count / row; ++r) {
    /* Output offset of input row r: each input index shifted by its left padding. */
    int32_t rest = r, off = 0, stride = p->output_dims[TINYFLOW_KERNEL_MAX_DIMS - 1];
    off = p->left[TINYFLOW_KERNEL_MAX_DIMS - 1];
    for (d = TINYFLOW_KERNEL_MAX_DIMS - 2; d >= 0; --d) {
      off += (rest % p->input_dims[d] + p->left[d]) * stride;
      rest /= p->input_dims[d];
      stride *= p->output_dims[d];
    }
    memcpy(out + (size_t)off * es, in + (size_t)r * row * es, (size_t)row * es);
  }
  return TINYFLOW_KERNEL_OK;
}
