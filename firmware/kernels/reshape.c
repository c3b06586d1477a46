/* RESHAPE; see tinyflow/kernels/reshape.h. */
#include <string.h>

#include "tinyflow/kernels/reshape.h"
#include "tinyflow/kernels/shape.h"

int tinyflow_reshape(const void *input, void *output, int32_t bytes) {
  if (bytes < 0) return TINYFLOW_KERNEL_EINVAL;
  /* memmove: the planner may overlap the buffers when it does not alias them outright. */
  if (input != output) memmove(output, input, (size_t)bytes);
  return TINYFLOW_KERNEL_OK;
}
