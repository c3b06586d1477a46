/* CONCATENATION; see tinyflow/kernels/concatenation.h. */
#include <math.h>
#include <string.h>

#include "tinyflow/kernels/concatenation.h"
#include "tinyflow/kernels/shape.h"

static int check(const tinyflow_concat_params_t *p) {
  int32_t i;
  if (p->num_inputs < 1 || p->num_inputs > TINYFLOW_CONCAT_MAX_INPUTS || p->outer < 0) return 0;
  for (i = 0; i < p->num_inputs; ++i) {
    if (p->copy_bytes[i] < 0) return 0;
  }
  return 1;
}

int tinyflow_concatenation(const tinyflow_concat_params_t *p, const void *const *inputs, void *output) {
  uint8_t *out = (uint8_t *)output;
  int32_t k, i;
  if (!check(p)) return TINYFLOW_KERNEL_EINVAL;
  for (k = 0; k < p->outer; ++k) {
    for (i = 0; i < p->num_inputs; ++i) {
      memcpy(out, (const uint8_t *)inputs[i] + (size_t)k * (size_t)p->copy_bytes[i], (size_t)p->copy_bytes[i]);
      out += p->copy_bytes[i];
    }
  }
  return TINYFLOW_KERNEL_OK;
}

int tinyflow_concatenation_requant_s8(const tinyflow_concat_params_t *p, const tinyflow_concat_requant_t *q,
                                      const int8_t *const *inputs, int8_t *output) {
  int32_t k, i, j;
  if (!check(p)) return TINYFLOW_KERNEL_EINVAL;
  for (k = 0; k < p->outer; ++k) {
    for (i = 0; i < p->num_inputs; ++i) {
      const int8_t *in = inputs[i] + (size_t)k * (size_t)p->copy_bytes[i];
      const float scale = q->scale[i];
      const float bias = -(float)q->input_zero_point[i] * scale;
      for (j = 0; j < p->copy_bytes[i]; ++j) {
        float r = roundf((float)in[j] * scale + bias);
        int32_t v;
        /* Saturate in float first: converting an out-of-range float to int is undefined. */
        r = r != r ? 0.0f : (r > 1024.0f ? 1024.0f : (r < -1024.0f ? -1024.0f : r));
        v = (int32_t)r + q->output_zero_point;
        *output++ = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
      }
    }
  }
  return TINYFLOW_KERNEL_OK;
}
