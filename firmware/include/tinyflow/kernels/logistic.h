/* LOGISTIC and TANH int8, bit-exact with TFLM reference_integer_ops::Logistic/Tanh (gemmlowp
 * fixed point on a Q4.27 input). Output scales are fixed by TFLM: logistic 1/256 zp -128,
 * tanh 1/128 zp 0. */
#ifndef TINYFLOW_KERNELS_LOGISTIC_H
#define TINYFLOW_KERNELS_LOGISTIC_H

#include <stdint.h>

typedef struct {
  int32_t input_zero_point;
  int32_t input_range_radius;
  int32_t input_multiplier;
  int32_t input_left_shift;
  int32_t size;
} tinyflow_sigmoid_params_t;

int tinyflow_logistic_s8(const tinyflow_sigmoid_params_t *p, const int8_t *input, int8_t *output);

#endif /* TINYFLOW_KERNELS_LOGISTIC_H */
