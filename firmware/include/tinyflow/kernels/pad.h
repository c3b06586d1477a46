/* PAD / PADV2 with a constant (the output zero point for int8 PAD), up to 6 dims, any element
 * size; same result as TFLM reference_ops::Pad / PadImageStyle. */
#ifndef TINYFLOW_KERNELS_PAD_H
#define TINYFLOW_KERNELS_PAD_H

#include <stdint.h>
#include "tinyflow/kernels/shape.h"

typedef struct {
  int32_t element_bytes;   /* 1, 2 or 4 */
  int32_t input_dims[TINYFLOW_KERNEL_MAX_DIMS];  /* leading unused dims are 1 */
  int32_t output_dims[TINYFLOW_KERNEL_MAX_DIMS];
  int32_t left[TINYFLOW_KERNEL_MAX_DIMS];        /* padding before each dim */
  uint8_t pad_value[4];    /* one element, little-endian bytes as stored */
} tinyflow_pad_params_t;

int tinyflow_pad(const tinyflow_pad_params_t *p, const void *input, void *output);

#endif /* TINYFLOW_KERNELS_PAD_H */
