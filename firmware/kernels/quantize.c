/* QUANTIZE (TFLM AffineQuantize / Requantize); see tinyflow/kernels/quantize.h. */
#include <math.h>

#include "tinyflow/kernels/quantize.h"
#include "tinyflow/kernels/fixedpoint.h"
#include "tinyflow/kernels/shape.h"
#include "tinyflow/model.h"

static int32_t clamp(int32_t v, int32_t lo, int32_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

static int dtype_range(int dtype, int32_t *lo, int32_t *hi) {
  switch (dtype) {
    case TINYFLOW_DTYPE_INT8: *lo = -128; *hi = 127; return 1;
    case TINYFLOW_DTYPE_UINT8: *lo = 0; *hi = 255; return 1;
    case TINYFLOW_DTYPE_INT16: *lo = -32768; *hi = 32767; return 1;
    case TINYFLOW_DTYPE_INT32: *lo = INT32_MIN; *hi = INT32_MAX; return 1;
    default: return 0;
  }
}

static int32_t load(int dtype, const void *data, int32_t i) {
  switch (dtype) {
    case TINYFLOW_DTYPE_INT8: return ((const int8_t *)data)[i];
    case TINYFLOW_DTYPE_UINT8: return ((const uint8_t *)data)[i];
    case TINYFLOW_DTYPE_INT16: return ((const int16_t *)data)[i];
    default: return ((const int32_t *)data)[i];
  }
}

static void store(int dtype, void *data, int32_t i, int32_t v) {
  switch (dtype) {
    case TINYFLOW_DTYPE_INT8: ((int8_t *)data)[i] = (int8_t)v; break;
    case TINYFLOW_DTYPE_UINT8: ((uint8_t *)data)[i] = (uint8_t)v; break;
    case TINYFLOW_DTYPE_INT16: ((int16_t *)data)[i] = (int16_t)v; break;
    default: ((int32_t *)data)[i] = v; break;
  }
}

int tinyflow_quantize_f32(const tinyflow_quantize_params_t *p, const float *input, int out_dtype, void *output) {
  int32_t lo = 0, hi = 0, i;
  if (p->size < 0 || (out_dtype != TINYFLOW_DTYPE_INT8 && out_dtype != TINYFLOW_DTYPE_INT16)) {
    return TINYFLOW_KERNEL_EINVAL;
  }
  dtype_range(out_dtype, &lo, &hi);
  for (i = 0; i < p->size; ++i) {
    /* Single-precision divide and round half away from zero, as TFLM; clamp before the int
     * conversion so out-of-range floats saturate instead of being undefined. */
    float r = roundf(input[i] / p->scale);
    int32_t v;
    if (r != r) r = 0.0f; /* NaN */
    if (r > 65536.0f) r = 65536.0f;
    if (r < -65536.0f) r = -65536.0f;
    v = (int32_t)r + p->output_zero_point;
    store(out_dtype, output, i, clamp(v, lo, hi));
  }
  return TINYFLOW_KERNEL_OK;
}

int tinyflow_requantize(const tinyflow_quantize_params_t *p, int in_dtype, const void *input,
                        int out_dtype, void *output) {
  int32_t lo = 0, hi = 0, in_lo, in_hi, i;
  if (p->size < 0 || !dtype_range(out_dtype, &lo, &hi) || !dtype_range(in_dtype, &in_lo, &in_hi)) {
    return TINYFLOW_KERNEL_EINVAL;
  }
  for (i = 0; i < p->size; ++i) {
    const int32_t x = tinyflow_fp_sub(load(in_dtype, input, i), p->input_zero_point);
    const int32_t v = tinyflow_fp_add(tinyflow_mbqm(x, p->multiplier, p->shift), p->output_zero_point);
    store(out_dtype, output, i, clamp(v, lo, hi));
  }
  return TINYFLOW_KERNEL_OK;
}
