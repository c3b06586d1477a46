/* AVERAGE_POOL_2D and MAX_POOL_2D int8, bit-exact with TFLM reference_integer_ops::AveragePool
 * and MaxPool (input and output share scale and zero point, which the host checks). */
#ifndef TINYFLOW_KERNELS_POOLING_H
#define TINYFLOW_KERNELS_POOLING_H

#include <stdint.h>
#include "tinyflow/kernels/common.h"

typedef struct {
  int32_t batches, input_h, input_w, channels;
  int32_t filter_h, filter_w, output_h, output_w;
  int32_t stride_h, stride_w, pad_h, pad_w;
  int32_t act_min, act_max;
} tinyflow_pool_params_t;

int tinyflow_avg_pool_s8(const tinyflow_pool_params_t *p, const int8_t *input, int8_t *output);
int tinyflow_max_pool_s8(const tinyflow_pool_params_t *p, const int8_t *input, int8_t *output);

#endif /* TINYFLOW_KERNELS_POOLING_H */
