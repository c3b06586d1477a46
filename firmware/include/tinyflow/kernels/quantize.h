/* QUANTIZE: float -> int8/int16 (TFLM reference_ops::AffineQuantize) and integer requantize
 * between int8/uint8/int16/int32 (reference_ops::Requantize), bit-exact with TFLM. */
#ifndef TINYFLOW_KERNELS_QUANTIZE_H
#define TINYFLOW_KERNELS_QUANTIZE_H

#include <stdint.h>

typedef struct {
  float scale;              /* output scale (float path) */
  int32_t input_zero_point; /* requantize path */
  int32_t output_zero_point;
  int32_t multiplier;       /* QuantizeMultiplier(input scale / output scale) */
  int32_t shift;
  int32_t size;
} tinyflow_quantize_params_t;

/* out_dtype: TINYFLOW_DTYPE_INT8 or TINYFLOW_DTYPE_INT16 (model.h numbers). */
int tinyflow_quantize_f32(const tinyflow_quantize_params_t *p, const float *input, int out_dtype, void *output);
/* in/out dtypes: INT8, UINT8, INT16, INT32 in the pairs TFLM supports. */
int tinyflow_requantize(const tinyflow_quantize_params_t *p, int in_dtype, const void *input,
                        int out_dtype, void *output);

#endif /* TINYFLOW_KERNELS_QUANTIZE_H */
