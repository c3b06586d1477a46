/* SOFTMAX int8 -> int8 and int8 -> int16 over the last dim, bit-exact with TFLM
 * reference_ops::Softmax (gemmlowp exp, Q5.26 scaled differences, Q12 accumulator). */
#ifndef TINYFLOW_KERNELS_SOFTMAX_H
#define TINYFLOW_KERNELS_SOFTMAX_H

#include <stdint.h>

typedef struct {
  int32_t input_multiplier; /* PreprocessSoftmaxScaling(beta, input scale, 5) */
  int32_t input_left_shift;
  int32_t diff_min;         /* -CalculateInputRadius(5, input_left_shift) */
  int32_t outer;            /* rows */
  int32_t depth;            /* last dim */
} tinyflow_softmax_params_t;

int tinyflow_softmax_s8(const tinyflow_softmax_params_t *p, const int8_t *input, int8_t *output);
int tinyflow_softmax_s8_s16(const tinyflow_softmax_params_t *p, const int8_t *input, int16_t *output);

#endif /* TINYFLOW_KERNELS_SOFTMAX_H */
