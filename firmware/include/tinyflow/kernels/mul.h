/* MUL int8 with broadcasting, bit-exact with TFLM reference_integer_ops::Mul/BroadcastMul6DSlow. */
#ifndef TINYFLOW_KERNELS_MUL_H
#define TINYFLOW_KERNELS_MUL_H

#include <stdint.h>
#include "tinyflow/kernels/shape.h"

typedef struct {
  int32_t input1_offset, input2_offset, output_offset;
  int32_t output_multiplier, output_shift;
  int32_t act_min, act_max;
} tinyflow_mul_params_t;

int tinyflow_mul_s8(const tinyflow_mul_params_t *p, const tinyflow_broadcast_t *b,
                    const int8_t *input1, const int8_t *input2, int8_t *output);

#endif /* TINYFLOW_KERNELS_MUL_H */
