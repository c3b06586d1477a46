/* CONV_2D int8 for Cortex-M4 (DSP): same function and results as firmware/kernels/conv_2d.c.
 * Four output channels share each load of four input bytes: the inputs are widened once
 * (x + input_offset in 16-bit lanes, __sxtab16) and multiplied with four filters by __smlad.
 * Most layers go through the two-pixel x two-channel kernel (pointwise.h): pointwise layers
 * directly (through pw_lean.h's leaner blocks when the compiler proved its table exact), others
 * after laying each window out as a vector (window_pairs.h). The rest (groups,
 * windows longer than PAIRS_MAX_K) take the paths below: when taps along a filter row are
 * contiguous in memory, a whole row of taps is one dot product. */
#include "tinyflow/kernels/conv_2d.h"

#include "pointwise.h"
#include "pw_lean.h"
#include "requant.h"
#include "simd.h"

/* acc[k] += sum_i (x[i] + off) * w[k * w_stride + i] for k < 4, i < n. The word loop is in
 * assembly because GCC spills pointers there: 25 instructions per 16 multiply-accumulates. */
static void dot_x4(const int8_t *x, const int8_t *w, int32_t w_stride, int32_t n, int32_t in_off, int32_t *acc) {
  const int8_t *wa = w, *wb = w + 2 * w_stride; /* channels 0,1 from wa; 2,3 from wb */
  const int32_t off2 = tinyflow_m4_offset2(in_off);
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], i;
  int32_t words = n >> 2;
#if TINYFLOW_M4_ASM
  if (words > 0) {
    int32_t xe, xo, wv, t;
    __asm__ volatile(
        "1:\n\t"
        "ldr %[t], [%[x]], #4\n\t"
        "sxtab16 %[xe], %[o], %[t]\n\t"
        "sxtab16 %[xo], %[o], %[t], ror #8\n\t"
        /* channel 1 = [wa + stride], channel 0 = [wa] (then wa += 4) */
        "ldr %[wv], [%[wa], %[s]]\n\t"
        "sxtb16 %[t], %[wv]\n\t"
        "smlad %[a1], %[xe], %[t], %[a1]\n\t"
        "sxtb16 %[wv], %[wv], ror #8\n\t"
        "smlad %[a1], %[xo], %[wv], %[a1]\n\t"
        "ldr %[wv], [%[wa]], #4\n\t"
        "sxtb16 %[t], %[wv]\n\t"
        "smlad %[a0], %[xe], %[t], %[a0]\n\t"
        "sxtb16 %[wv], %[wv], ror #8\n\t"
        "smlad %[a0], %[xo], %[wv], %[a0]\n\t"
        /* channel 3 = [wb + stride], channel 2 = [wb] (then wb += 4) */
        "ldr %[wv], [%[wb], %[s]]\n\t"
        "sxtb16 %[t], %[wv]\n\t"
        "smlad %[a3], %[xe], %[t], %[a3]\n\t"
        "sxtb16 %[wv], %[wv], ror #8\n\t"
        "smlad %[a3], %[xo], %[wv], %[a3]\n\t"
        "ldr %[wv], [%[wb]], #4\n\t"
        "sxtb16 %[t], %[wv]\n\t"
        "smlad %[a2], %[xe], %[t], %[a2]\n\t"
        "sxtb16 %[wv], %[wv], ror #8\n\t"
        "smlad %[a2], %[xo], %[wv], %[a2]\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n\t"
        : [x] "+r"(x), [wa] "+r"(wa), [wb] "+r"(wb), [n] "+r"(words), [a0] "+r"(a0), [a1] "+r"(a1),
          [a2] "+r"(a2), [a3] "+r"(a3), [xe] "=&r"(xe), [xo] "=&r"(xo), [wv] "=&r"(wv), [t] "=&r"(t)
        : [s] "r"(w_stride), [o] "r"(off2)
        : "cc", "memory");
  }
#else
  for (; words > 0; --words, x += 4, wa += 4, wb += 4) {
    const int32_t xv = tinyflow_m4_load4(x);
    const int32_t xe = __sxtab16(off2, xv), xo = tinyflow_m4_sxtab16_ror8(off2, xv);
    int32_t wv = tinyflow_m4_load4(wa);
    a0 = __smlad(xo, tinyflow_m4_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), a0));
    wv = tinyflow_m4_load4(wa + w_stride);
    a1 = __smlad(xo, tinyflow_m4_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), a1));
    wv = tinyflow_m4_load4(wb);
    a2 = __smlad(xo, tinyflow_m4_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), a2));
    wv = tinyflow_m4_load4(wb + w_stride);
    a3 = __smlad(xo, tinyflow_m4_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), a3));
  }
#endif
  for (i = 0; i < (n & 3); ++i) {
    const int32_t xi = x[i] + in_off;
    a0 += xi * wa[i];
    a1 += xi * wa[w_stride + i];
    a2 += xi * wb[i];
    a3 += xi * wb[w_stride + i];
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

static int32_t dot_x1(const int8_t *x, const int8_t *w, int32_t n, int32_t in_off) {
  const int32_t off2 = tinyflow_m4_offset2(in_off);
  int32_t a = 0, i = 0;
  for (; i + 4 <= n; i += 4) {
    const int32_t xv = tinyflow_m4_load4(x + i), wv = tinyflow_m4_load4(w + i);
    a = __smlad(__sxtab16(off2, xv), __sxtb16(wv), a);
    a = __smlad(tinyflow_m4_sxtab16_ror8(off2, xv), tinyflow_m4_sxtb16_ror8(wv), a);
  }
  for (; i < n; ++i) a += (x[i] + in_off) * w[i];
  return a;
}

typedef struct {
  const tinyflow_conv_params_t *p;
  int32_t iy0, ix0, fy0, fy1, fx0, fx1;
} window_t;

/* Accumulate `count` (1 or 4) output channels starting at filter w_oc over the valid taps. */
static void accumulate(const window_t *win, const int8_t *in_g, const int8_t *w_oc, int32_t count, int32_t *acc) {
  const tinyflow_conv_params_t *p = win->p;
  const int32_t fc = p->filter_c, ic = p->input_c, tap_stride = p->filter_w * fc;
  const int32_t w_stride = p->filter_h * tap_stride;
  /* Taps of one filter row are contiguous in input and filter when they are fc apart in both. */
  const int contiguous = p->dilation_w == 1 && fc == ic;
  for (int32_t fy = win->fy0; fy < win->fy1; ++fy) {
    const int8_t *x_row = in_g + ((win->iy0 + fy * p->dilation_h) * p->input_w + win->ix0) * ic;
    const int8_t *w_row = w_oc + fy * tap_stride;
    if (contiguous) {
      const int32_t n = (win->fx1 - win->fx0) * fc;
      if (count == 4) dot_x4(x_row + win->fx0 * ic, w_row + win->fx0 * fc, w_stride, n, p->input_offset, acc);
      else acc[0] += dot_x1(x_row + win->fx0 * ic, w_row + win->fx0 * fc, n, p->input_offset);
      continue;
    }
    for (int32_t fx = win->fx0; fx < win->fx1; ++fx) {
      const int8_t *x = x_row + fx * p->dilation_w * ic;
      if (count == 4) dot_x4(x, w_row + fx * fc, w_stride, fc, p->input_offset, acc);
      else acc[0] += dot_x1(x, w_row + fx * fc, fc, p->input_offset);
    }
  }
}

/* Narrow filters (a row of taps shorter than 16 bytes: first layers on 1-3 channel inputs) leave
 * the dot products too short to pay for their set-up. For them, each pixel's window is first
 * gathered into this buffer (taps outside the input hold the input zero point, so that
 * x + input_offset = 0 there, as the reference skips them), then every channel is one dot
 * product over the whole filter. */
#define GATHER_BYTES 256
static int8_t gathered[GATHER_BYTES];

static int use_gather(const tinyflow_conv_params_t *p) {
  return p->filter_c == p->input_c && p->filter_w * p->filter_c < 16 &&
         p->filter_h * p->filter_w * p->filter_c <= GATHER_BYTES;
}

/* 1x1 filters without padding (pointwise layers): a pixel's input channels are already the
 * contiguous vector that every channel's filter is dotted with. */
static int is_pointwise(const tinyflow_conv_params_t *p) {
  return p->filter_h == 1 && p->filter_w == 1 && p->filter_c == p->input_c && p->pad_h == 0 && p->pad_w == 0;
}

static void gather_window(const tinyflow_conv_params_t *p, const int8_t *in_b, int32_t iy0, int32_t ix0) {
  const int32_t ic = p->input_c, fw = p->filter_w, dw = p->dilation_w, in_w = p->input_w;
  const int8_t zero_point = (int8_t)(-p->input_offset);
  int8_t *dst = gathered;
  /* Byte loops, not memcpy: a tap is 1 to 15 bytes here, less than a library call costs. */
  for (int32_t fy = 0; fy < p->filter_h; ++fy) {
    const int32_t iy = iy0 + fy * p->dilation_h;
    const int row_inside = iy >= 0 && iy < p->input_h;
    const int8_t *src_row = in_b + iy * in_w * ic;
    if (ic == 1) { /* single-channel inputs (spectrograms, grey images): one byte a tap */
      for (int32_t fx = 0, ix = ix0; fx < fw; ++fx, ix += dw) {
        *dst++ = (row_inside && ix >= 0 && ix < in_w) ? src_row[ix] : zero_point;
      }
      continue;
    }
    for (int32_t fx = 0; fx < fw; ++fx) {
      const int32_t ix = ix0 + fx * dw;
      if (row_inside && ix >= 0 && ix < in_w) {
        const int8_t *src = src_row + ix * ic;
        for (int32_t c = 0; c < ic; ++c) *dst++ = src[c];
      } else {
        for (int32_t c = 0; c < ic; ++c) *dst++ = zero_point;
      }
    }
  }
}

#include "window_pairs.h"
#include "conv_small_cin.h"

typedef struct {
  const int32_t *multiplier, *shift, *bias;
  const int8_t *filter;
  int32_t oc_n, k_n, input_offset, output_offset, act_min, act_max;
  int right_only;
} channels_t;

/* All output channels of one pixel whose input is the contiguous vector vec (k_n bytes). */
__attribute__((noinline)) static void vector_channels(const channels_t *ch, const int8_t *vec, int8_t *out) {
  /* Locals, not ch->...: stores through int8_t outputs may alias anything. */
  const int32_t *const mult_ = ch->multiplier, *const shift_ = ch->shift, *const bias_ = ch->bias;
  const int32_t o_off_ = ch->output_offset, lo_ = ch->act_min, hi_ = ch->act_max;
  const int right_only_ = ch->right_only;
  const int32_t k_n = ch->k_n;
  int32_t oc = 0;
  for (; oc + 4 <= ch->oc_n; oc += 4) {
    /* Start from the bias: the same integer sum in another order. */
    int32_t acc[4] = {0, 0, 0, 0};
    if (bias_ != 0) acc[0] = bias_[oc], acc[1] = bias_[oc + 1], acc[2] = bias_[oc + 2], acc[3] = bias_[oc + 3];
    dot_x4(vec, ch->filter + oc * k_n, k_n, k_n, ch->input_offset, acc);
    for (int32_t k = 0; k < 4; ++k) {
      out[oc + k] = tinyflow_m4_requant(right_only_, acc[k], mult_[oc + k], shift_[oc + k],
                                        o_off_, lo_, hi_);
    }
  }
  for (; oc < ch->oc_n; ++oc) {
    const int32_t a = (bias_ != 0 ? bias_[oc] : 0) + dot_x1(vec, ch->filter + oc * k_n, k_n, ch->input_offset);
    out[oc] = tinyflow_m4_requant(right_only_, a, mult_[oc], shift_[oc], o_off_, lo_,
                                  hi_);
  }
}

/* Every output pixel as one vector (gathered, or the pixel itself for pointwise layers) dotted
 * with each channel's whole filter. */
static void conv_vector(const tinyflow_conv_params_t *p, const int32_t *multiplier, const int32_t *shift,
                        const int8_t *input, const int8_t *filter, const int32_t *bias, int8_t *output, int pointwise) {
  const int32_t oc_n = p->output_c, k_n = p->filter_h * p->filter_w * p->filter_c;
  const channels_t ch = {multiplier, shift, bias, filter, oc_n, k_n, p->input_offset, p->output_offset,
                         p->act_min, p->act_max, tinyflow_m4_right_only(multiplier, shift, oc_n)};
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *in_b = input + b * p->input_h * p->input_w * p->input_c;
    for (int32_t oy = 0; oy < p->output_h; ++oy) {
      for (int32_t ox = 0; ox < p->output_w; ++ox) {
        int8_t *out = output + ((b * p->output_h + oy) * p->output_w + ox) * oc_n;
        const int8_t *vec = gathered;
        if (pointwise) {
          vec = in_b + (oy * p->stride_h * p->input_w + ox * p->stride_w) * p->input_c;
        } else {
          gather_window(p, in_b, oy * p->stride_h - p->pad_h, ox * p->stride_w - p->pad_w);
        }
        vector_channels(&ch, vec, out);
      }
    }
  }
}

int tinyflow_conv_2d_s8(const tinyflow_conv_params_t *p, const int32_t *multiplier, const int32_t *shift,
                        const int8_t *input, const int8_t *filter, const int32_t *bias, int8_t *output) {
  if (!tinyflow_conv_params_ok(p)) return TINYFLOW_KERNEL_EINVAL;
  const int32_t *lean = pwl_head(p, bias);
  if (lean != 0) {
    conv_pointwise_lean(p, lean, multiplier, shift, input, filter, bias, output);
    return TINYFLOW_KERNEL_OK;
  }
  if (pointwise_pairs_ok(p)) {
    conv_pointwise_pairs(p, multiplier, shift, input, filter, bias, output);
    return TINYFLOW_KERNEL_OK;
  }
  const int32_t *small_cin = sc_table(p, bias); /* 1-4 input channels, the compiler's table */
  if (small_cin != 0) {
    conv_small_cin(p, small_cin, input, output);
    return TINYFLOW_KERNEL_OK;
  }
  if (!is_pointwise(p) && window_pairs_ok(p)) {
    conv_window_pairs(p, multiplier, shift, input, filter, bias, output);
    return TINYFLOW_KERNEL_OK;
  }
  if (is_pointwise(p) || use_gather(p)) {
    conv_vector(p, multiplier, shift, input, filter, bias, output, is_pointwise(p));
    return TINYFLOW_KERNEL_OK;
  }
  const int right_only = tinyflow_m4_right_only(multiplier, shift, p->output_c);
  const int32_t fc = p->filter_c, ic = p->input_c, oc_n = p->output_c;
  const int32_t oc_per_group = oc_n / (ic / fc), w_stride = p->filter_h * p->filter_w * fc;
  window_t win = {p, 0, 0, 0, 0, 0, 0};
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *in_b = input + b * p->input_h * p->input_w * ic;
    for (int32_t oy = 0; oy < p->output_h; ++oy) {
      win.iy0 = oy * p->stride_h - p->pad_h;
      tinyflow_tap_range(win.iy0, p->dilation_h, p->filter_h, p->input_h, &win.fy0, &win.fy1);
      for (int32_t ox = 0; ox < p->output_w; ++ox) {
        win.ix0 = ox * p->stride_w - p->pad_w;
        tinyflow_tap_range(win.ix0, p->dilation_w, p->filter_w, p->input_w, &win.fx0, &win.fx1);
        int8_t *out = output + ((b * p->output_h + oy) * p->output_w + ox) * oc_n;
        int32_t oc = 0;
        while (oc < oc_n) {
          const int32_t group = oc / oc_per_group;
          /* Four channels at once when they read the same input group. */
          const int32_t count = (oc + 4 <= oc_n && (oc + 3) / oc_per_group == group) ? 4 : 1;
          int32_t acc[4] = {0, 0, 0, 0};
          accumulate(&win, in_b + group * fc, filter + oc * w_stride, count, acc);
          for (int32_t k = 0; k < count; ++k, ++oc) {
            const int32_t a = bias != 0 ? (int32_t)((uint32_t)acc[k] + (uint32_t)bias[oc]) : acc[k];
            out[oc] = tinyflow_m4_requant(right_only, a, multiplier[oc], shift[oc], p->output_offset, p->act_min, p->act_max);
          }
        }
      }
    }
  }
  return TINYFLOW_KERNEL_OK;
}
