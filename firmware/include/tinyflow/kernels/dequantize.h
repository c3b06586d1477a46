/* DEQUANTIZE int8/int16/uint8 -> float, bit-exact with TFLM reference_ops::Dequantize
 * (the product is taken in double, as TFLM does, then rounded to float). */
#ifndef TINYFLOW_KERNELS_DEQUANTIZE_H
#define TINYFLOW_KERNELS_DEQUANTIZE_H

#include <stdint.h>

typedef struct {
  float scale;
  int32_t zero_point;
  int32_t size;
} tinyflow_dequantize_params_t;

int tinyflow_dequantize(const tinyflow_dequantize_params_t *p, int in_dtype, const void *input, float *output);

#endif /* TINYFLOW_KERNELS_DEQUANTIZE_H */
