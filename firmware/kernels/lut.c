/* Table lookup for int8 element-wise ops; see tinyflow/kernels/lut.h. */
#include "tinyflow/kernels/lut.h"
#include "tinyflow/kernels/common.h"

int tinyflow_lut_s8(const int8_t *table, const int8_t *input, int8_t *output, int32_t size) {
  const int8_t *t = table + 128; /* indexed by the signed input */
  int32_t i;
  if (size < 0) return TINYFLOW_KERNEL_EINVAL;
  for (i = 0; i < size; ++i) output[i] = t[input[i]];
  return TINYFLOW_KERNEL_OK;
}
