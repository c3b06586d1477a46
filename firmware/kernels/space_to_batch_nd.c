/* SPACE_TO_BATCH_ND; see tinyflow/kernels/space_to_batch_nd.h. Output batch ob holds the pixels
 * at phase (ob / input_batch) of the block grid of input batch ob % input_batch (TFLM's order). */
#include <string.h>

#include "tinyflow/kernels/space_to_batch_nd.h"

int tinyflow_space_to_batch_nd(const tinyflow_space_batch_params_t *p, const void *input, void *output) {
  const int32_t es = p->element_bytes;
  const size_t pixel = (size_t)p->depth * (size_t)es;
  const uint8_t *in = (const uint8_t *)input;
  uint8_t *out = (uint8_t *)output;
  int32_t ob, oy, ox, k;
  int uniform;
  if ((es != 1 && es != 2 && es != 4) || p->depth < 1 || p->input_batch < 1 || p->input_h < 1 || p->input_w < 1 ||
      p->output_h < 1 || p->output_w < 1 || p->block_h < 1 || p->block_w < 1 || p->before_h < 0 || p->before_w < 0) {
    return TINYFLOW_KERNEL_EINVAL;
  }
  /* 64-bit: hostile block sizes must not wrap into a plausible batch. */
  if ((int64_t)p->input_batch * p->block_h * p->block_w != p->output_batch ||
      (int64_t)p->output_h * p->block_h < (int64_t)p->input_h + p->before_h ||
      (int64_t)p->output_w * p->block_w < (int64_t)p->input_w + p->before_w ||
      (int64_t)p->output_h * p->block_h > INT32_MAX || (int64_t)p->output_w * p->block_w > INT32_MAX) {
    return TINYFLOW_KERNEL_EINVAL;
  }
  /* A pad element of equal bytes (0, what TFLM pads with) is one memset per pixel. */
  uniform = es == 1 || (p->pad_value[1] == p->pad_value[0] &&
                        (es == 2 || (p->pad_value[2] == p->pad_value[0] && p->pad_value[3] == p->pad_value[0])));
  for (ob = 0; ob < p->output_batch; ++ob) {
    const int32_t ib = ob % p->input_batch, phase = ob / p->input_batch;
    const int32_t shift_h = phase / p->block_w, shift_w = phase % p->block_w;
    for (oy = 0; oy < p->output_h; ++oy) {
      const int32_t iy = oy * p->block_h + shift_h - p->before_h;
      for (ox = 0; ox < p->output_w; ++ox) {
        const int32_t ix = ox * p->block_w + shift_w - p->before_w;
        uint8_t *dst = out + ((size_t)((int64_t)ob * p->output_h + oy) * (size_t)p->output_w + (size_t)ox) * pixel;
        if (iy >= 0 && iy < p->input_h && ix >= 0 && ix < p->input_w) {
          memcpy(dst, in + ((size_t)((int64_t)ib * p->input_h + iy) * (size_t)p->input_w + (size_t)ix) * pixel, pixel);
        } else if (uniform) {
          memset(dst, p->pad_value[0], pixel);
        } else {
          for (k = 0; k < p->depth; ++k) memcpy(dst + (size_t)k * (size_t)es, p->pad_value, (size_t)es);
        }
      }
    }
  }
  return TINYFLOW_KERNEL_OK;
}
