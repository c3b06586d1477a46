/* DEQUANTIZE (TFLM reference_ops::Dequantize); see tinyflow/kernels/dequantize.h. */
#include "tinyflow/kernels/dequantize.h"
#include "tinyflow/kernels/shape.h"
#include "tinyflow/model.h"

int tinyflow_dequantize(const tinyflow_dequantize_params_t *p, int in_dtype, const void *input, float *output) {
  const double scale = (double)p->scale;
  int32_t i;
  if (p->size < 0) return TINYFLOW_KERNEL_EINVAL;
  for (i = 0; i < p->size; ++i) {
    int32_t v;
    switch (in_dtype) {
      case TINYFLOW_DTYPE_INT8: v = ((const int8_t *)input)[i]; break;
      case TINYFLOW_DTYPE_UINT8: v = ((const uint8_t *)input)[i]; break;
      case TINYFLOW_DTYPE_INT16: v = ((const int16_t *)input)[i]; break;
      default: return TINYFLOW_KERNEL_EINVAL;
    }
    output[i] = (float)(scale * (double)(v - p->zero_point));
  }
  return TINYFLOW_KERNEL_OK;
}
