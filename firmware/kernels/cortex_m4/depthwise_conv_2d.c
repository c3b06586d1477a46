/* DEPTHWISE_CONV_2D int8 for Cortex-M4 (DSP): same function and results as
 * firmware/kernels/depthwise_conv_2d.c. Layers whose bias carries the compiler's table
 * (dw_block.h: generated code appends it on DSP builds) run from it (dw_3x3.h, dw_any.h); the
 * rest (channel tails, depth multipliers 2 and 3, dilation, left shifts) below. Four output channels are computed together, taps in the
 * inner loop, accumulators in registers (starting at the bias): with depth multiplier 1 each tap
 * is two word loads, two widenings per operand (__sxtab16 adds the input offset) and four 16x16
 * MACs (__smlabb/__smlatt); 3x3 windows inside the input have their own unrolled path. Depth
 * multipliers that are multiples of 4 broadcast one input value to four filter taps; others take
 * a scalar four-channel loop. */
#include "tinyflow/kernels/depthwise_conv_2d.h"

#include "dw_3x3.h"
#include "dw_any.h"
#include "requant.h"
#include "simd.h"

typedef struct {
  int32_t iy0, ix0, fy0, fy1, fx0, fx1;
} window_t;

/* One tap for four channels: widen four inputs (+ offset) and four weights, four 16x16 MACs. */
#define TAP4(xp, wp)                                                                      \
  do {                                                                                    \
    const int32_t xv_ = tinyflow_m4_load4(xp), wv_ = tinyflow_m4_load4(wp);               \
    const int32_t xe_ = __sxtab16(off2, xv_), xo_ = tinyflow_m4_sxtab16_ror8(off2, xv_);  \
    const int32_t we_ = __sxtb16(wv_), wo_ = tinyflow_m4_sxtb16_ror8(wv_);                \
    a0 = __smlabb(xe_, we_, a0);                                                          \
    a2 = __smlatt(xe_, we_, a2);                                                          \
    a1 = __smlabb(xo_, wo_, a1);                                                          \
    a3 = __smlatt(xo_, wo_, a3);                                                          \
  } while (0)

/* The common case on its own, so that the compiler keeps everything in registers: a 3x3 filter,
 * depth multiplier 1, no dilation, the whole window inside the input. x points at the window's
 * top-left tap (channel 0), out at the pixel's outputs. Accumulators start at the bias (the sum
 * is the same integer in any order). */
typedef struct {
  const int32_t *multiplier, *shift, *bias;
  const int8_t *filter;
  int32_t c_n, row, off2, input_offset, output_offset, act_min, act_max;
  int right_only; /* tinyflow_m4_right_only() of this call */
} dw3x3_t;

#if TINYFLOW_M4_ASM
#define DW_TAP(xaddr, waddr)                                   \
  "ldr %[xv], " xaddr "\n\t"                                  \
  "ldr %[wv], " waddr "\n\t"                                  \
  "sxtab16 %[xo], %[o], %[xv], ror #8\n\t"                    \
  "sxtab16 %[xv], %[o], %[xv]\n\t"                            \
  "sxtb16 %[wo], %[wv], ror #8\n\t"                           \
  "sxtb16 %[wv], %[wv]\n\t"                                   \
  "smlabb %[a0], %[xv], %[wv], %[a0]\n\t"                     \
  "smlatt %[a2], %[xv], %[wv], %[a2]\n\t"                     \
  "smlabb %[a1], %[xo], %[wo], %[a1]\n\t"                     \
  "smlatt %[a3], %[xo], %[wo], %[a3]\n\t"
#define DW_ROW                                                 \
  DW_TAP("[%[x]]", "[%[w]]")                                   \
  DW_TAP("[%[x], %[c]]", "[%[w], %[c]]")                       \
  DW_TAP("[%[x], %[c], lsl #1]", "[%[w], %[c], lsl #1]")

/* The nine taps of four channels, hand-scheduled (GCC spilled here): 10 instructions a tap.
 * Not inlined: the asm takes 13 registers, which a caller's live values leave only at -O2/-O3. */
__attribute__((noinline)) static void taps_3x3_asm(const int8_t *x, const int8_t *w, int32_t c_n, int32_t row,
                                                   int32_t off2, int32_t *acc) {
  int32_t r0 = acc[0], r1 = acc[1], r2 = acc[2], r3 = acc[3], xv, xo, wv, wo;
  /* Next row: x += row, w += 3 * c_n (as c + (c << 1)); the third tap is [base + (c << 1)]. */
  __asm__ volatile(DW_ROW "add %[x], %[x], %[row]\n\t"
                   "add %[w], %[w], %[c]\n\tadd %[w], %[w], %[c], lsl #1\n\t" DW_ROW "add %[x], %[x], %[row]\n\t"
                   "add %[w], %[w], %[c]\n\tadd %[w], %[w], %[c], lsl #1\n\t" DW_ROW
                   : [x] "+r"(x), [w] "+r"(w), [a0] "+r"(r0), [a1] "+r"(r1), [a2] "+r"(r2), [a3] "+r"(r3),
                     [xv] "=&r"(xv), [xo] "=&r"(xo), [wv] "=&r"(wv), [wo] "=&r"(wo)
                   : [c] "r"(c_n), [row] "r"(row), [o] "r"(off2)
                   : "memory");
  acc[0] = r0, acc[1] = r1, acc[2] = r2, acc[3] = r3;
}
#endif

__attribute__((noinline)) static void pixel_3x3(const dw3x3_t *d, const int8_t *x, int8_t *out) {
  const int32_t c_n = d->c_n, row = d->row, off2 = d->off2;
  const int8_t *w = d->filter;
  /* Locals, not d->...: stores through int8_t *out may alias anything, which would make the
   * compiler reload every field after each output. */
  const int32_t *const mult = d->multiplier, *const shift = d->shift, *const bias = d->bias;
  const int32_t o_off = d->output_offset, lo = d->act_min, hi = d->act_max;
  const int right_only = d->right_only;
  int32_t c = 0;
  for (; c + 4 <= c_n; c += 4, x += 4, w += 4) {
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    if (bias != 0) a0 = bias[c], a1 = bias[c + 1], a2 = bias[c + 2], a3 = bias[c + 3];
#if TINYFLOW_M4_ASM
    int32_t acc[4] = {a0, a1, a2, a3};
    taps_3x3_asm(x, w, c_n, row, off2, acc);
    a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
#else
    const int8_t *xr = x, *wr = w;
    for (int32_t fy = 0; fy < 3; ++fy, xr += row, wr += 3 * c_n) {
      TAP4(xr, wr);
      TAP4(xr + c_n, wr + c_n);
      TAP4(xr + 2 * c_n, wr + 2 * c_n);
    }
#endif
    out[c] = tinyflow_m4_requant(right_only, a0, mult[c], shift[c], o_off, lo, hi);
    out[c + 1] = tinyflow_m4_requant(right_only, a1, mult[c + 1], shift[c + 1], o_off, lo, hi);
    out[c + 2] = tinyflow_m4_requant(right_only, a2, mult[c + 2], shift[c + 2], o_off, lo, hi);
    out[c + 3] = tinyflow_m4_requant(right_only, a3, mult[c + 3], shift[c + 3], o_off, lo, hi);
  }
  for (; c < c_n; ++c, ++x, ++w) {
    int32_t a = bias != 0 ? bias[c] : 0;
    for (int32_t fy = 0; fy < 3; ++fy) {
      for (int32_t fx = 0; fx < 3; ++fx) a += (x[fy * row + fx * c_n] + d->input_offset) * w[(fy * 3 + fx) * c_n];
    }
    out[c] = tinyflow_m4_requant(right_only, a, mult[c], shift[c], o_off, lo, hi);
  }
}

/* Any window of a depth-multiplier-1 layer (padded borders, other filter sizes, dilation): all
 * channels of one pixel, four at a time, taps [fy0, fy1) x [fx0, fx1). */
__attribute__((noinline)) static void pixel_dm1(const dw3x3_t *d, const tinyflow_dwconv_params_t *p, const int8_t *x,
                                                const window_t *win, int8_t *out) {
  /* Locals, not d->...: stores through int8_t outputs may alias anything. */
  const int32_t *const mult_ = d->multiplier, *const shift_ = d->shift, *const bias_ = d->bias;
  const int32_t o_off_ = d->output_offset, lo_ = d->act_min, hi_ = d->act_max;
  const int right_only_ = d->right_only;
  const int32_t c_n = d->c_n, off2 = d->off2;
  const int32_t x_row = p->dilation_h * d->row, x_tap = p->dilation_w * c_n, w_row = p->filter_w * c_n;
  x += (win->fy0 * p->dilation_h * p->input_w + win->fx0 * p->dilation_w) * c_n;
  const int8_t *w = d->filter + (win->fy0 * p->filter_w + win->fx0) * c_n;
  const int32_t rows = win->fy1 - win->fy0, cols = win->fx1 - win->fx0;
  int32_t c = 0;
  for (; c + 4 <= c_n; c += 4, x += 4, w += 4) {
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    if (bias_ != 0) a0 = bias_[c], a1 = bias_[c + 1], a2 = bias_[c + 2], a3 = bias_[c + 3];
    const int8_t *xr = x, *wr = w;
    for (int32_t fy = 0; fy < rows; ++fy, xr += x_row, wr += w_row) {
      const int8_t *xt = xr, *wt = wr;
      for (int32_t fx = 0; fx < cols; ++fx, xt += x_tap, wt += c_n) TAP4(xt, wt);
    }
    out[c] = tinyflow_m4_requant(right_only_, a0, mult_[c], shift_[c], o_off_, lo_, hi_);
    out[c + 1] = tinyflow_m4_requant(right_only_, a1, mult_[c + 1], shift_[c + 1], o_off_, lo_, hi_);
    out[c + 2] = tinyflow_m4_requant(right_only_, a2, mult_[c + 2], shift_[c + 2], o_off_, lo_, hi_);
    out[c + 3] = tinyflow_m4_requant(right_only_, a3, mult_[c + 3], shift_[c + 3], o_off_, lo_, hi_);
  }
  for (; c < c_n; ++c, ++x, ++w) {
    int32_t a = bias_ != 0 ? bias_[c] : 0;
    for (int32_t fy = 0; fy < rows; ++fy) {
      for (int32_t fx = 0; fx < cols; ++fx) a += (x[fy * x_row + fx * x_tap] + d->input_offset) * w[fy * w_row + fx * c_n];
    }
    out[c] = tinyflow_m4_requant(right_only_, a, mult_[c], shift_[c], o_off_, lo_, hi_);
  }
}

/* Any window of a layer whose depth multiplier is a multiple of 4: every block of four output
 * channels reads one input channel, whose value is broadcast to both halfwords and multiplies
 * four filter taps. x points at the window's top-left input pixel (channel 0). */
__attribute__((noinline)) static void pixel_shared_x(const dw3x3_t *d, const tinyflow_dwconv_params_t *p,
                                                     const int8_t *x, const window_t *win, int8_t *out) {
  const int32_t *const mult_ = d->multiplier, *const shift_ = d->shift, *const bias_ = d->bias;
  const int32_t o_off_ = d->output_offset, lo_ = d->act_min, hi_ = d->act_max, in_off = d->input_offset;
  const int right_only_ = d->right_only;
  const int32_t c_n = d->c_n, ic_n = p->input_c, dm = p->depth_multiplier;
  const int32_t x_row = p->dilation_h * p->input_w * ic_n, x_tap = p->dilation_w * ic_n, w_row = p->filter_w * c_n;
  x += (win->fy0 * p->dilation_h * p->input_w + win->fx0 * p->dilation_w) * ic_n;
  const int8_t *w0 = d->filter + (win->fy0 * p->filter_w + win->fx0) * c_n;
  const int32_t rows = win->fy1 - win->fy0, cols = win->fx1 - win->fx0;
  for (int32_t c = 0; c < c_n; c += 4) {
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    if (bias_ != 0) a0 = bias_[c], a1 = bias_[c + 1], a2 = bias_[c + 2], a3 = bias_[c + 3];
    const int8_t *xr = x + c / dm, *wr = w0 + c;
    for (int32_t fy = 0; fy < rows; ++fy, xr += x_row, wr += w_row) {
      const int8_t *xt = xr, *wt = wr;
      for (int32_t fx = 0; fx < cols; ++fx, xt += x_tap, wt += c_n) {
        const uint32_t xi = (uint32_t)(*xt + in_off);
        const int32_t xx = (int32_t)((xi & 0xFFFFu) | (xi << 16));
        const int32_t wv = tinyflow_m4_load4(wt);
        const int32_t we = __sxtb16(wv), wo = tinyflow_m4_sxtb16_ror8(wv);
        a0 = __smlabb(xx, we, a0);
        a2 = __smlatt(xx, we, a2);
        a1 = __smlabb(xx, wo, a1);
        a3 = __smlatt(xx, wo, a3);
      }
    }
    out[c] = tinyflow_m4_requant(right_only_, a0, mult_[c], shift_[c], o_off_, lo_, hi_);
    out[c + 1] = tinyflow_m4_requant(right_only_, a1, mult_[c + 1], shift_[c + 1], o_off_, lo_, hi_);
    out[c + 2] = tinyflow_m4_requant(right_only_, a2, mult_[c + 2], shift_[c + 2], o_off_, lo_, hi_);
    out[c + 3] = tinyflow_m4_requant(right_only_, a3, mult_[c + 3], shift_[c + 3], o_off_, lo_, hi_);
  }
}

/* `count` channels from oc, any depth multiplier (the slow path: depth multipliers not 1 nor 4k). */
static void taps_any(const tinyflow_dwconv_params_t *p, const window_t *win, const int8_t *in_b, const int8_t *filter,
                     int32_t oc, int32_t count, int32_t *acc) {
  const int32_t c_n = p->output_c, ic_n = p->input_c, off = p->input_offset;
  int32_t x_index[4];
  for (int32_t k = 0; k < count; ++k) {
    acc[k] = 0;
    x_index[k] = (oc + k) / p->depth_multiplier; /* the input channel of output channel oc + k */
  }
  for (int32_t fy = win->fy0; fy < win->fy1; ++fy) {
    const int32_t iy = win->iy0 + fy * p->dilation_h;
    for (int32_t fx = win->fx0; fx < win->fx1; ++fx) {
      const int8_t *x = in_b + (iy * p->input_w + win->ix0 + fx * p->dilation_w) * ic_n;
      const int8_t *w = filter + (fy * p->filter_w + fx) * c_n + oc;
      for (int32_t k = 0; k < count; ++k) acc[k] += (x[x_index[k]] + off) * w[k];
    }
  }
}

int tinyflow_depthwise_conv_2d_s8(const tinyflow_dwconv_params_t *p, const int32_t *multiplier,
                                  const int32_t *shift, const int8_t *input, const int8_t *filter,
                                  const int32_t *bias, int8_t *output) {
  if (!tinyflow_dwconv_params_ok(p)) return TINYFLOW_KERNEL_EINVAL;
  const dwb_block_t *table = dwb_table(p, bias);
  if (table != 0) { /* the compiler's table (dw_block.h): every corpus layer */
    if (p->filter_h == 3 && p->filter_w == 3 && p->depth_multiplier == 1) {
      dwb_layer_3x3(p, table, input, output);
    } else {
      dwb_layer_any(p, table, input, output);
    }
    return TINYFLOW_KERNEL_OK;
  }
  const int32_t oc_n = p->output_c, off2 = tinyflow_m4_offset2(p->input_offset);
  const int fast_3x3 = p->filter_h == 3 && p->filter_w == 3 && p->depth_multiplier == 1 && p->dilation_h == 1 &&
                       p->dilation_w == 1;
  const int right_only = tinyflow_m4_right_only(multiplier, shift, oc_n);
  const dw3x3_t d = {multiplier, shift, bias, filter, oc_n, p->input_w * oc_n, off2, p->input_offset, p->output_offset,
                     p->act_min, p->act_max, right_only};
  window_t win;
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *in_b = input + b * p->input_h * p->input_w * p->input_c;
    for (int32_t oy = 0; oy < p->output_h; ++oy) {
      win.iy0 = oy * p->stride_h - p->pad_h;
      tinyflow_tap_range(win.iy0, p->dilation_h, p->filter_h, p->input_h, &win.fy0, &win.fy1);
      for (int32_t ox = 0; ox < p->output_w; ++ox) {
        win.ix0 = ox * p->stride_w - p->pad_w;
        tinyflow_tap_range(win.ix0, p->dilation_w, p->filter_w, p->input_w, &win.fx0, &win.fx1);
        int8_t *out = output + ((b * p->output_h + oy) * p->output_w + ox) * oc_n;
        if (fast_3x3 && win.fy1 - win.fy0 == 3 && win.fx1 - win.fx0 == 3) {
          pixel_3x3(&d, in_b + (win.iy0 * p->input_w + win.ix0) * oc_n, out);
          continue;
        }
        if (p->depth_multiplier == 1) {
          pixel_dm1(&d, p, in_b + (win.iy0 * p->input_w + win.ix0) * oc_n, &win, out);
          continue;
        }
        if (p->depth_multiplier % 4 == 0) {
          pixel_shared_x(&d, p, in_b + (win.iy0 * p->input_w + win.ix0) * p->input_c, &win, out);
          continue;
        }
        for (int32_t oc = 0; oc < oc_n;) {
          int32_t acc[4];
          const int32_t count = oc + 4 <= oc_n ? 4 : oc_n - oc;
          taps_any(p, &win, in_b, filter, oc, count, acc);
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
