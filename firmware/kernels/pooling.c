/* AVERAGE_POOL_2D / MAX_POOL_2D int8 (TFLM reference_integer_ops::AveragePool, MaxPool); see
 * tinyflow/kernels/pooling.h. */
#include "tinyflow/kernels/pooling.h"

static int params_ok(const tinyflow_pool_params_t *p) {
  if (p->batches < 1 || p->input_h < 1 || p->input_w < 1 || p->channels < 1) return 0;
  if (p->filter_h < 1 || p->filter_w < 1 || p->output_h < 1 || p->output_w < 1) return 0;
  if (p->stride_h < 1 || p->stride_w < 1 || p->pad_h < 0 || p->pad_w < 0) return 0;
  return p->act_min <= p->act_max;
}

static int32_t max32(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t min32(int32_t a, int32_t b) { return a < b ? a : b; }

/* Runs `avg` (1) or max (0) pooling; one function keeps the window arithmetic in one place. */
static int pool(const tinyflow_pool_params_t *p, const int8_t *input, int8_t *output, int avg) {
  const int32_t ch = p->channels;
  int32_t b, oy, ox, c, y, x;
  if (!params_ok(p)) return TINYFLOW_KERNEL_EINVAL;
  for (b = 0; b < p->batches; ++b) {
    for (oy = 0; oy < p->output_h; ++oy) {
      const int32_t iy0 = oy * p->stride_h - p->pad_h;
      const int32_t y0 = max32(0, -iy0), y1 = min32(p->filter_h, p->input_h - iy0);
      for (ox = 0; ox < p->output_w; ++ox) {
        const int32_t ix0 = ox * p->stride_w - p->pad_w;
        const int32_t x0 = max32(0, -ix0), x1 = min32(p->filter_w, p->input_w - ix0);
        const int32_t count = (y1 > y0 && x1 > x0) ? (y1 - y0) * (x1 - x0) : 0;
        int8_t *out = output + ((b * p->output_h + oy) * p->output_w + ox) * ch;
        if (count == 0) return TINYFLOW_KERNEL_EINVAL; /* TFLM fails the same window */
        for (c = 0; c < ch; ++c) {
          int32_t acc = avg ? 0 : -128;
          for (y = y0; y < y1; ++y) {
            const int8_t *row = input + ((b * p->input_h + iy0 + y) * p->input_w + ix0) * ch + c;
            for (x = x0; x < x1; ++x) {
              const int32_t v = row[x * ch];
              if (avg) acc += v;
              else if (v > acc) acc = v;
            }
          }
          if (avg) acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
          out[c] = (int8_t)tinyflow_clamp(acc, p->act_min, p->act_max);
        }
      }
    }
  }
  return TINYFLOW_KERNEL_OK;
}

int tinyflow_avg_pool_s8(const tinyflow_pool_params_t *p, const int8_t *input, int8_t *output) {
  return pool(p, input, output, 1);
}

int tinyflow_max_pool_s8(const tinyflow_pool_params_t *p, const int8_t *input, int8_t *output) {
  return pool(p, input, output, 0);
}
