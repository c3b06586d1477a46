/* SVDF int8 (int8 weights_time and activation state), bit-exact with TFLM's
 * EvalIntegerSvdfReference<int8_t>. The state is a variable tensor the op updates on every call:
 * it must persist between inferences and start filled with its zero point (TFLM
 * ResetVariableTensors); tinyflow_svdf_reset_state() does that. No scratch buffers: the time
 * dot products are reduced per unit as they are computed (int32 sums wrap like TFLM's). */
#ifndef TINYFLOW_KERNELS_SVDF_H
#define TINYFLOW_KERNELS_SVDF_H

#include <stdint.h>

typedef struct {
  int32_t batch, input_size, filters, rank, memory;
  int32_t input_zero_point, state_zero_point, output_zero_point;
  int32_t scale1_multiplier, scale1_shift; /* input * weights_feature -> state */
  int32_t scale2_multiplier, scale2_shift; /* state * weights_time -> output */
} tinyflow_svdf_params_t;

/* bias may be NULL. state has batch * filters * memory elements; output batch * filters / rank. */
int tinyflow_svdf_s8(const tinyflow_svdf_params_t *p, const int8_t *input, const int8_t *weights_feature,
                     const int8_t *weights_time, const int32_t *bias, int8_t *state, int8_t *output);
void tinyflow_svdf_reset_state(const tinyflow_svdf_params_t *p, int8_t *state);

#endif /* TINYFLOW_KERNELS_SVDF_H */
