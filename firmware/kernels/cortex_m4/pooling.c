/* AVERAGE_POOL_2D / MAX_POOL_2D int8 for Cortex-M4 (DSP): same functions and results as
 * firmware/kernels/pooling.c (TFLM reference_integer_ops::AveragePool, MaxPool). Four channels
 * per word: the average sums each window cell with two SXTAB16 into int16 lane pairs (exact
 * while a window has at most 255 cells: 255 * 128 < 2^15), the maximum with SSUB8 + SEL per
 * byte; the division (rounded half away from zero, by the number of cells inside the input) and
 * the clamp stay per channel, as in TFLM. Channel tails and larger windows take the scalar loop. */
#include "tinyflow/kernels/pooling.h"

#include "simd.h"

static int params_ok(const tinyflow_pool_params_t *p) {
  if (p->batches < 1 || p->input_h < 1 || p->input_w < 1 || p->channels < 1) return 0;
  if (p->filter_h < 1 || p->filter_w < 1 || p->output_h < 1 || p->output_w < 1) return 0;
  if (p->stride_h < 1 || p->stride_w < 1 || p->pad_h < 0 || p->pad_w < 0) return 0;
  return p->act_min <= p->act_max;
}

/* One output pixel's window, clipped to the input: x at its first cell (channel 0). */
typedef struct {
  const int8_t *x;
  int32_t rows, cols, count;
} pool_window_t;

/* TFLM's average: the sum divided by the cell count, rounded half away from zero, clamped. */
static inline int8_t average(int32_t acc, int32_t count, int32_t lo, int32_t hi) {
  const int32_t half = count / 2;
  acc = acc > 0 ? (acc + half) / count : (acc - half) / count;
  return (int8_t)tinyflow_clamp(acc, lo, hi);
}

static void avg_pixel(const tinyflow_pool_params_t *p, const pool_window_t *win, int8_t *out) {
  const int32_t ch = p->channels, row = p->input_w * ch, lo = p->act_min, hi = p->act_max;
  int32_t c = 0;
  if (p->filter_h * p->filter_w <= 255) {
    for (; c + 4 <= ch; c += 4) {
      int32_t even = 0, odd = 0; /* lanes: channels (c, c+2) and (c+1, c+3) */
      const int8_t *xr = win->x + c;
      for (int32_t y = 0; y < win->rows; ++y, xr += row) {
        const int8_t *xc = xr;
        int32_t x = 0;
        for (; x + 2 <= win->cols; x += 2, xc += 2 * ch) { /* two cells per pass: half the loop overhead */
          const int32_t v0 = tinyflow_m4_load4(xc), v1 = tinyflow_m4_load4(xc + ch);
          even = __sxtab16(__sxtab16(even, v0), v1);
          odd = tinyflow_m4_sxtab16_ror8(tinyflow_m4_sxtab16_ror8(odd, v0), v1);
        }
        if (x < win->cols) {
          const int32_t v = tinyflow_m4_load4(xc);
          even = __sxtab16(even, v);
          odd = tinyflow_m4_sxtab16_ror8(odd, v);
        }
      }
      out[c] = average((int16_t)even, win->count, lo, hi);
      out[c + 1] = average((int16_t)odd, win->count, lo, hi);
      out[c + 2] = average(even >> 16, win->count, lo, hi);
      out[c + 3] = average(odd >> 16, win->count, lo, hi);
    }
  }
  for (; c < ch; ++c) {
    int32_t acc = 0;
    const int8_t *xr = win->x + c;
    for (int32_t y = 0; y < win->rows; ++y, xr += row) {
      for (int32_t x = 0; x < win->cols; ++x) acc += xr[x * ch];
    }
    out[c] = average(acc, win->count, lo, hi);
  }
}

static void max_pixel(const tinyflow_pool_params_t *p, const pool_window_t *win, int8_t *out) {
  const int32_t ch = p->channels, row = p->input_w * ch, lo = p->act_min, hi = p->act_max;
  int32_t c = 0;
  for (; c + 4 <= ch; c += 4) {
    int32_t m = (int32_t)0x80808080u; /* -128 in every byte */
    const int8_t *xr = win->x + c;
    for (int32_t y = 0; y < win->rows; ++y, xr += row) {
      const int8_t *xc = xr;
      for (int32_t x = 0; x < win->cols; ++x, xc += ch) {
        const int32_t v = tinyflow_m4_load4(xc);
        int32_t t;
        /* One statement: SEL reads the GE bits SSUB8 sets (v >= m per byte), which C cannot see. */
        __asm__("ssub8 %[t], %[v], %[m]\n\tsel %[m], %[v], %[m]" : [m] "+r"(m), [t] "=&r"(t) : [v] "r"(v) : "cc");
      }
    }
    for (int32_t k = 0; k < 4; ++k) out[c + k] = (int8_t)tinyflow_clamp((int8_t)(m >> (8 * k)), lo, hi);
  }
  for (; c < ch; ++c) {
    int32_t acc = -128;
    const int8_t *xr = win->x + c;
    for (int32_t y = 0; y < win->rows; ++y, xr += row) {
      for (int32_t x = 0; x < win->cols; ++x) acc = xr[x * ch] > acc ? xr[x * ch] : acc;
    }
    out[c] = (int8_t)tinyflow_clamp(acc, lo, hi);
  }
}

/* Runs average (avg = 1) or max pooling over every output pixel. */
static int pool(const tinyflow_pool_params_t *p, const int8_t *input, int8_t *output, int avg) {
  if (!params_ok(p)) return TINYFLOW_KERNEL_EINVAL;
  const int32_t ch = p->channels;
  for (int32_t b = 0; b < p->batches; ++b) {
    for (int32_t oy = 0; oy < p->output_h; ++oy) {
      const int32_t iy0 = oy * p->stride_h - p->pad_h;
      const int32_t y0 = iy0 < 0 ? -iy0 : 0, y1 = p->input_h - iy0 < p->filter_h ? p->input_h - iy0 : p->filter_h;
      for (int32_t ox = 0; ox < p->output_w; ++ox) {
        const int32_t ix0 = ox * p->stride_w - p->pad_w;
        const int32_t x0 = ix0 < 0 ? -ix0 : 0, x1 = p->input_w - ix0 < p->filter_w ? p->input_w - ix0 : p->filter_w;
        if (y1 <= y0 || x1 <= x0) return TINYFLOW_KERNEL_EINVAL; /* TFLM fails the same window */
        const pool_window_t win = {input + ((b * p->input_h + iy0 + y0) * p->input_w + ix0 + x0) * ch, y1 - y0,
                                   x1 - x0, (y1 - y0) * (x1 - x0)};
        int8_t *out = output + ((b * p->output_h + oy) * p->output_w + ox) * ch;
        if (avg) {
          avg_pixel(p, &win, out);
        } else {
          max_pixel(p, &win, out);
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
