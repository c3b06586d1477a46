/* FULLY_CONNECTED int8, bit-exact with TFLM reference_integer_ops::FullyConnected.
 * The host folds input_offset * sum(weights of row o) into bias[o] (int32 wrap-around, as the
 * reference's accumulator), so the inner loop is a plain int8 dot product. */
#ifndef TINYFLOW_KERNELS_FULLY_CONNECTED_H
#define TINYFLOW_KERNELS_FULLY_CONNECTED_H

#include <stdint.h>
#include "tinyflow/kernels/common.h"

typedef struct {
  int32_t batches, accum_depth, output_depth;
  int32_t output_offset, act_min, act_max;
} tinyflow_fc_params_t;

/* filter is [output_depth][accum_depth]; folded_bias and the requantization arrays have
 * output_depth entries. */
int tinyflow_fully_connected_s8(const tinyflow_fc_params_t *p, const int32_t *multiplier, const int32_t *shift,
                                const int8_t *input, const int8_t *filter, const int32_t *folded_bias,
                                int8_t *output);

#endif /* TINYFLOW_KERNELS_FULLY_CONNECTED_H */
