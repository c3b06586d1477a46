/* SVDF int8 (TFLM EvalIntegerSvdfReference<int8_t>); see tinyflow/kernels/svdf.h. */
#include <string.h>

#include "tinyflow/kernels/svdf.h"
#include "tinyflow/kernels/common.h"

void tinyflow_svdf_reset_state(const tinyflow_svdf_params_t *p, int8_t *state) {
  memset(state, (int)(uint8_t)(int8_t)p->state_zero_point, (size_t)p->batch * p->filters * p->memory);
}

/* Feature matmul: one new state column (the newest time step) per filter. */
static void feature_step(const tinyflow_svdf_params_t *p, const int8_t *input, const int8_t *weights_feature,
                         int8_t *state) {
  int32_t b, r, c;
  for (b = 0; b < p->batch; ++b) {
    const int8_t *row = weights_feature;
    const int8_t *in = input + b * p->input_size;
    int8_t *newest = state + (size_t)b * p->filters * p->memory + (p->memory - 1);
    for (r = 0; r < p->filters; ++r) {
      uint32_t dot = 0; /* int32 accumulation that wraps like TFLM's */
      for (c = 0; c < p->input_size; ++c) dot += (uint32_t)((int32_t)row[c] * ((int32_t)in[c] - p->input_zero_point));
      row += p->input_size;
      *newest = (int8_t)(p->state_zero_point +
                         tinyflow_clamp(tinyflow_mbqm((int32_t)dot, p->scale1_multiplier, p->scale1_shift), -128, 127));
      newest += p->memory;
    }
  }
}

int tinyflow_svdf_s8(const tinyflow_svdf_params_t *p, const int8_t *input, const int8_t *weights_feature,
                     const int8_t *weights_time, const int32_t *bias, int8_t *state, int8_t *output) {
  const int32_t units = p->rank > 0 ? p->filters / p->rank : 0;
  const int32_t total = p->batch * p->filters * p->memory;
  int32_t b, u, j, m;
  if (p->batch < 1 || p->input_size < 1 || p->rank < 1 || p->memory < 1 || units < 1 || units * p->rank != p->filters) {
    return TINYFLOW_KERNEL_EINVAL;
  }
  memmove(state, state + 1, (size_t)(total - 1)); /* shift every filter's history left by one step */
  feature_step(p, input, weights_feature, state);
  for (b = 0; b < p->batch; ++b) {
    const int8_t *hist = state + (size_t)b * p->filters * p->memory;
    for (u = 0; u < units; ++u) {
      uint32_t acc = bias != 0 ? (uint32_t)bias[u] : 0u;
      for (j = 0; j < p->rank; ++j) {
        const int32_t f = u * p->rank + j;
        const int8_t *w = weights_time + (size_t)f * p->memory;
        const int8_t *s = hist + (size_t)f * p->memory;
        uint32_t dot = 0;
        for (m = 0; m < p->memory; ++m) dot += (uint32_t)((int32_t)w[m] * ((int32_t)s[m] - p->state_zero_point));
        acc += dot;
      }
      output[b * units + u] = (int8_t)tinyflow_clamp(
          tinyflow_mbqm((int32_t)acc, p->scale2_multiplier, p->scale2_shift) + p->output_zero_point, -128, 127);
    }
  }
  return TINYFLOW_KERNEL_OK;
}
