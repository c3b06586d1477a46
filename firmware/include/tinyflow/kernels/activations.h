/* RELU and RELU6 int8, bit-exact with TFLM ReluQuantized (requantizes input -> output) and
 * Relu6Quantized (clamps to [zero, six] of the input). */
#ifndef TINYFLOW_KERNELS_ACTIVATIONS_H
#define TINYFLOW_KERNELS_ACTIVATIONS_H

#include <stdint.h>

typedef struct {
  int32_t input_offset;     /* input zero point */
  int32_t output_offset;    /* output zero point */
  int32_t output_multiplier;
  int32_t output_shift;
  int32_t act_min, act_max;
  int32_t size;
} tinyflow_relu_params_t;

typedef struct {
  int8_t lower;             /* input zero point */
  int8_t upper;             /* 6.0 quantized with the input parameters */
  int32_t size;
} tinyflow_relu6_params_t;

int tinyflow_relu_s8(const tinyflow_relu_params_t *p, const int8_t *input, int8_t *output);
int tinyflow_relu6_s8(const tinyflow_relu6_params_t *p, const int8_t *input, int8_t *output);

#endif /* TINYFLOW_KERNELS_ACTIVATIONS_H */
