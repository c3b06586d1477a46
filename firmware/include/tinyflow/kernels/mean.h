/* MEAN int8 over any set of axes, keep_dims either way, bit-exact with TFLM
 * reference_ops::QuantizedMeanOrSum (int32 sums, 1/n folded into the multiplier on the host). */
#ifndef TINYFLOW_KERNELS_MEAN_H
#define TINYFLOW_KERNELS_MEAN_H

#include <stdint.h>
#include "tinyflow/kernels/shape.h"

typedef struct {
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t multiplier;         /* QuantizeMultiplier(in scale / out scale), then << s / n (TFLM) */
  int32_t shift;
  int32_t num_reduced;        /* n: elements summed per output */
  /* Output elements in order: kept dims (leading unused dims are 1) and their input strides. */
  int32_t kept_dims[TINYFLOW_KERNEL_MAX_DIMS];
  int32_t kept_strides[TINYFLOW_KERNEL_MAX_DIMS];
  /* Elements summed per output: reduced dims and their input strides. */
  int32_t reduced_dims[TINYFLOW_KERNEL_MAX_DIMS];
  int32_t reduced_strides[TINYFLOW_KERNEL_MAX_DIMS];
} tinyflow_mean_params_t;

int tinyflow_mean_s8(const tinyflow_mean_params_t *p, const int8_t *input, int8_t *output);

#endif /* TINYFLOW_KERNELS_MEAN_H */
