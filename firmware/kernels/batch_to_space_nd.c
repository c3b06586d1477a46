/* BATCH_TO_SPACE_ND; see tinyflow/kernels/batch_to_space_nd.h. Input batch ib goes to phase
 * (ib / output_batch) of the block grid of output batch ib % output_batch; cropped pixels are
 * skipped, so with the host's exact crops every output pixel is written once. */
#include <string.h>

#include "tinyflow/kernels/batch_to_space_nd.h"

int tinyflow_batch_to_space_nd(const tinyflow_space_batch_params_t *p, const void *input, void *output) {
  const int32_t es = p->element_bytes;
  const size_t pixel = (size_t)p->depth * (size_t)es;
  const uint8_t *in = (const uint8_t *)input;
  uint8_t *out = (uint8_t *)output;
  int32_t ib, iy, ix;
  if ((es != 1 && es != 2 && es != 4) || p->depth < 1 || p->output_batch < 1 || p->input_h < 1 || p->input_w < 1 ||
      p->output_h < 1 || p->output_w < 1 || p->block_h < 1 || p->block_w < 1 || p->before_h < 0 || p->before_w < 0) {
    return TINYFLOW_KERNEL_EINVAL;
  }
  if ((int64_t)p->output_batch * p->block_h * p->block_w != p->input_batch ||
      (int64_t)p->output_h + p->before_h > (int64_t)p->input_h * p->block_h ||
      (int64_t)p->output_w + p->before_w > (int64_t)p->input_w * p->block_w ||
      (int64_t)p->input_h * p->block_h > INT32_MAX || (int64_t)p->input_w * p->block_w > INT32_MAX) {
    return TINYFLOW_KERNEL_EINVAL;
  }
  for (ib = 0; ib < p->input_batch; ++ib) {
    const int32_t ob = ib % p->output_batch, phase = ib / p->output_batch;
    const int32_t shift_h = phase / p->block_w, shift_w = phase % p->block_w;
    for (iy = 0; iy < p->input_h; ++iy) {
      const int32_t oy = iy * p->block_h + shift_h - p->before_h;
      if (oy < 0 || oy >= p->output_h) continue;
      for (ix = 0; ix < p->input_w; ++ix) {
        const int32_t ox = ix * p->block_w + shift_w - p->before_w;
        if (ox < 0 || ox >= p->output_w) continue;
        memcpy(out + ((size_t)((int64_t)ob * p->output_h + oy) * (size_t)p->output_w + (size_t)ox) * pixel,
               in + ((size_t)((int64_t)ib * p->input_h + iy) * (size_t)p->input_w + (size_t)ix) * pixel, pixel);
      }
    }
  }
  return TINYFLOW_KERNEL_OK;
}
