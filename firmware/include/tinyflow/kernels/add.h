/* ADD int8 with broadcasting, bit-exact with TFLM reference_integer_ops::Add/BroadcastAdd6DSlow.
 * Every field is computed on the host as TFLM's CalculateOpDataAdd does. */
#ifndef TINYFLOW_KERNELS_ADD_H
#define TINYFLOW_KERNELS_ADD_H

#include <stdint.h>
#include "tinyflow/kernels/shape.h"

typedef struct {
  int32_t left_shift;
  int32_t input1_offset, input1_multiplier, input1_shift;
  int32_t input2_offset, input2_multiplier, input2_shift;
  int32_t output_offset, output_multiplier, output_shift;
  int32_t act_min, act_max;
} tinyflow_add_params_t;

int tinyflow_add_s8(const tinyflow_add_params_t *p, const tinyflow_broadcast_t *b,
                    const int8_t *input1, const int8_t *input2, int8_t *output);

/* The same result with each input's rescale read from a 256-entry table the host computed
 * (table[x + 128] = scaled input x): one requantization per element instead of three. */
int tinyflow_add_s8_lut(const tinyflow_add_params_t *p, const tinyflow_broadcast_t *b,
                        const int32_t *table1, const int32_t *table2,
                        const int8_t *input1, const int8_t *input2, int8_t *output);

#endif /* TINYFLOW_KERNELS_ADD_H */
