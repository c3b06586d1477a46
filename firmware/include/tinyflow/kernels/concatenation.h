/* CONCATENATION along any axis: per outer index, copy each input's slab in turn (TFLM
 * reference_ops::Concatenation). TFLM requires int8 inputs to share the output's scale and zero
 * point; inputs with other parameters are requantized by the float formula of TFLite's
 * ConcatenationWithScaling (tinyflow_concatenation_requant_s8), which TFLM itself refuses. */
#ifndef TINYFLOW_KERNELS_CONCATENATION_H
#define TINYFLOW_KERNELS_CONCATENATION_H

#include <stdint.h>

#define TINYFLOW_CONCAT_MAX_INPUTS 16

typedef struct {
  int32_t num_inputs;
  int32_t outer;                                /* product of dims before the axis */
  int32_t copy_bytes[TINYFLOW_CONCAT_MAX_INPUTS]; /* input i: dims[axis..] product * element size */
} tinyflow_concat_params_t;

typedef struct {
  float scale[TINYFLOW_CONCAT_MAX_INPUTS];      /* input scale / output scale */
  int32_t input_zero_point[TINYFLOW_CONCAT_MAX_INPUTS];
  int32_t output_zero_point;
} tinyflow_concat_requant_t;

int tinyflow_concatenation(const tinyflow_concat_params_t *p, const void *const *inputs, void *output);
int tinyflow_concatenation_requant_s8(const tinyflow_concat_params_t *p, const tinyflow_concat_requant_t *q,
                                      const int8_t *const *inputs, int8_t *output);

#endif /* TINYFLOW_KERNELS_CONCATENATION_H */
