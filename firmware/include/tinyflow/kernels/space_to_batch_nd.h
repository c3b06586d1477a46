/* SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND on 3-D (width 1) or 4-D NHWC tensors, any element size;
 * same result as TFLM reference_ops::SpaceToBatchND / BatchToSpaceND. The converter wraps a
 * dilated convolution in them when it cannot fuse the dilation into the conv (dynamic batch).
 * The host computes and checks every size (tinyflow/compile/ops/space_batch.py); the kernels
 * refuse parameters that do not add up, so a buffer is never indexed past its planned size. */
#ifndef TINYFLOW_KERNELS_SPACE_TO_BATCH_ND_H
#define TINYFLOW_KERNELS_SPACE_TO_BATCH_ND_H

#include <stdint.h>

#include "tinyflow/kernels/common.h"

typedef struct {
  int32_t element_bytes; /* 1, 2 or 4 */
  int32_t input_batch, input_h, input_w;
  int32_t output_batch, output_h, output_w;
  int32_t depth; /* elements per pixel */
  int32_t block_h, block_w;
  int32_t before_h, before_w; /* SPACE_TO_BATCH_ND: padding before; BATCH_TO_SPACE_ND: crop before */
  uint8_t pad_value[4];       /* one element, little-endian bytes (TFLM pads with 0) */
} tinyflow_space_batch_params_t;

int tinyflow_space_to_batch_nd(const tinyflow_space_batch_params_t *p, const void *input, void *output);

#endif /* TINYFLOW_KERNELS_SPACE_TO_BATCH_ND_H */
