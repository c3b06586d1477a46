/* DEPTHWISE_CONV_2D for Cortex-M4, 3x3 filters with depth multiplier 1 (dw_block.h's table):
 * interior windows hand-scheduled (9 taps x 8 instructions per 4 channels), side borders of
 * narrow inputs too, other clipped windows in C. Only depthwise_conv_2d.c includes this file. */
#ifndef TINYFLOW_KERNELS_CORTEX_M4_DW_3X3_H
#define TINYFLOW_KERNELS_CORTEX_M4_DW_3X3_H

#include "dw_block.h"

#if TINYFLOW_M4_ASM
/* One tap of four channels: the int16 weight pairs (c, c+2) and (c+1, c+3) in one LDRD. */
#define DWB_TAP(xaddr, wofs)                  \
  "ldr %[xv], " xaddr "\n\t"                  \
  "ldrd %[we], %[wo], [%[w], #" wofs "]\n\t" \
  "sxtb16 %[xo], %[xv], ror #8\n\t"           \
  "sxtb16 %[xv], %[xv]\n\t"                   \
  "smlabb %[a0], %[xv], %[we], %[a0]\n\t"     \
  "smlatt %[a2], %[xv], %[we], %[a2]\n\t"     \
  "smlabb %[a1], %[xo], %[wo], %[a1]\n\t"     \
  "smlatt %[a3], %[xo], %[wo], %[a3]\n\t"
#define DWB_ROW(w0, w1, w2) \
  DWB_TAP("[%[x]]", w0) DWB_TAP("[%[x], %[c]]", w1) DWB_TAP("[%[x], %[c], lsl #1]", w2)
#endif

/* One interior pixel (the whole 3x3 window inside the input): x at its top-left tap, channel 0. */
static inline __attribute__((always_inline)) void dwb_pixel(const dwb_block_t *blk, int32_t nb, const int8_t *x,
                                                            int32_t c_n, int32_t row, int32_t lo, int32_t hi, int full,
                                                            int8_t *out) {
  for (int32_t k = 0; k < nb; ++k, blk = dwb_next(blk, 38), x += 4, out += 4) {
    int32_t a0, a1, a2, a3;
#if TINYFLOW_M4_ASM
    /* Hand-scheduled: 12 live registers, where GCC spills an accumulator per tap. */
    const int8_t *xr = x;
    int32_t xv, xo, we, wo;
    __asm__("ldrd %[a0], %[a1], [%[w]]\n\t"
            "ldrd %[a2], %[a3], [%[w], #8]\n\t" DWB_ROW("80", "88", "96") "add %[x], %[x], %[row]\n\t" DWB_ROW(
                "104", "112", "120") "add %[x], %[x], %[row]\n\t" DWB_ROW("128", "136", "144")
            : [x] "+r"(xr), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [xv] "=&r"(xv),
              [xo] "=&r"(xo), [we] "=&r"(we), [wo] "=&r"(wo)
            : [w] "r"(blk), [c] "r"(c_n), [row] "r"(row)
            : "memory");
#else
    a0 = blk->ib[0], a1 = blk->ib[1], a2 = blk->ib[2], a3 = blk->ib[3];
    for (int32_t t = 0; t < 9; ++t) {
      const int32_t xv = tinyflow_m4_load4(x + (t / 3) * row + (t % 3) * c_n);
      const int32_t xe = __sxtb16(xv), xo = tinyflow_m4_sxtb16_ror8(xv);
      a0 = __smlabb(xe, blk->w[2 * t], a0);
      a2 = __smlatt(xe, blk->w[2 * t], a2);
      a1 = __smlabb(xo, blk->w[2 * t + 1], a1);
      a3 = __smlatt(xo, blk->w[2 * t + 1], a3);
    }
#endif
    dwb_store4(blk, a0, a1, a2, a3, lo, hi, full, out);
  }
}

#if TINYFLOW_M4_ASM
/* One tap of a side-border window: the input offset added while widening (SXTAB16). */
#define DWB_STAP(xaddr, wofs)                   \
  "ldr %[xv], " xaddr "\n\t"                    \
  "ldrd %[we], %[wo], [%[w], #" wofs "]\n\t"   \
  "sxtab16 %[xo], %[o], %[xv], ror #8\n\t"      \
  "sxtab16 %[xv], %[o], %[xv]\n\t"              \
  "smlabb %[a0], %[xv], %[we], %[a0]\n\t"       \
  "smlatt %[a2], %[xv], %[we], %[a2]\n\t"       \
  "smlabb %[a1], %[xo], %[wo], %[a1]\n\t"       \
  "smlatt %[a3], %[xo], %[wo], %[a3]\n\t"
#endif

/* A window that lost its first or last column (3 rows x 2 columns: the side borders of narrow
 * inputs such as KWS's 5-wide one): x at its first inside tap, fx0 its first filter column. */
/* GCC's pre-allocation scheduler (on for -mcpu=cortex-m7 tuning, off for the M4's) can leave the
 * asm below fewer than its 13 registers ("impossible constraints"): not for this function. */
__attribute__((noinline, optimize("no-schedule-insns"))) static void dwb_pixel_side(const dwb_block_t *blk, int32_t nb, const int8_t *x, int32_t fx0,
                                                     int32_t c_n, int32_t row, int32_t off2, int32_t lo, int32_t hi,
                                                     int8_t *out) {
  const int full = lo == -128 && hi == 127;
  for (int32_t k = 0; k < nb; ++k, blk = dwb_next(blk, 38), x += 4, out += 4) {
    int32_t a0 = blk->bias2[0], a1 = blk->bias2[1], a2 = blk->bias2[2], a3 = blk->bias2[3];
    const int32_t *w = blk->w + 2 * fx0;
#if TINYFLOW_M4_ASM
    /* Hand-scheduled: 13 live registers. */
    const int8_t *xr = x;
    int32_t xv, xo, we, wo;
    __asm__(DWB_STAP("[%[x]]", "0") DWB_STAP("[%[x], %[c]]", "8") "add %[x], %[x], %[row]\n\t" DWB_STAP(
                "[%[x]]", "24") DWB_STAP("[%[x], %[c]]", "32") "add %[x], %[x], %[row]\n\t"
                DWB_STAP("[%[x]]", "48") DWB_STAP("[%[x], %[c]]", "56")
            : [x] "+r"(xr), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [xv] "=&r"(xv),
              [xo] "=&r"(xo), [we] "=&r"(we), [wo] "=&r"(wo)
            : [w] "r"(w), [c] "r"(c_n), [row] "r"(row), [o] "r"(off2)
            : "memory");
#else
    for (int32_t t = 0; t < 6; ++t) {
      const int32_t xv = tinyflow_m4_load4(x + (t / 2) * row + (t % 2) * c_n);
      const int32_t xe = __sxtab16(off2, xv), xo = tinyflow_m4_sxtab16_ror8(off2, xv);
      const int32_t *wt = w + 6 * (t / 2) + 2 * (t % 2);
      a0 = __smlabb(xe, wt[0], a0);
      a2 = __smlatt(xe, wt[0], a2);
      a1 = __smlabb(xo, wt[1], a1);
      a3 = __smlatt(xo, wt[1], a3);
    }
#endif
    dwb_store4(blk, a0, a1, a2, a3, lo, hi, full, out);
  }
}

/* One tap of a clipped window: x (any alignment) plus the offset, weights at w. */
#define DWB_CTAP(xp, w)                                                                       \
  do {                                                                                      \
    const int32_t xv_ = tinyflow_m4_load4(xp);                                              \
    const int32_t xe_ = __sxtab16(off2, xv_), xo_ = tinyflow_m4_sxtab16_ror8(off2, xv_);    \
    a0 = __smlabb(xe_, (w)[0], a0);                                                         \
    a2 = __smlatt(xe_, (w)[0], a2);                                                         \
    a1 = __smlabb(xo_, (w)[1], a1);                                                         \
    a3 = __smlatt(xo_, (w)[1], a3);                                                         \
  } while (0)

/* A window clipped by the input's border: taps [fy0, fy1) x [fx0, fx0 + cols), x at tap
 * (fy0, fx0), the input offset added per tap (a padded tap adds nothing, so the interior bias
 * does not apply). Columns unrolled: a 3x3 window keeps 1 to 3 of them. */
__attribute__((noinline)) static void dwb_pixel_clipped(const dwb_block_t *blk, int32_t nb, const int8_t *x, int32_t fy0,
                                                        int32_t fy1, int32_t fx0, int32_t cols, int32_t c_n, int32_t row,
                                                        int32_t off2, int32_t lo, int32_t hi, int8_t *out) {
  const int full = lo == -128 && hi == 127;
  for (int32_t k = 0; k < nb; ++k, blk = dwb_next(blk, 38), x += 4, out += 4) {
    int32_t a0 = blk->bias2[0], a1 = blk->bias2[1], a2 = blk->bias2[2], a3 = blk->bias2[3];
    const int8_t *xr = x;
    const int32_t *w = blk->w + 6 * fy0 + 2 * fx0;
    for (int32_t fy = fy0; fy < fy1; ++fy, xr += row, w += 6) {
      switch (cols) {
        case 3:
          DWB_CTAP(xr + 2 * c_n, w + 4);
          /* fall through */
        case 2:
          DWB_CTAP(xr + c_n, w + 2);
          /* fall through */
        case 1:
          DWB_CTAP(xr, w);
          break;
        default:
          break;
      }
    }
    dwb_store4(blk, a0, a1, a2, a3, lo, hi, full, out);
  }
}

/* Interior pixels [ox0, ox1) of one output row; `full` is a constant in each caller's copy. */
static inline __attribute__((always_inline)) void dwb_run(const dwb_block_t *blk, const int8_t *x, int32_t n,
                                                          int32_t x_step, int32_t c_n, int32_t row, int32_t lo,
                                                          int32_t hi, int full, int8_t *out) {
  for (int32_t i = 0; i < n; ++i, x += x_step, out += c_n) dwb_pixel(blk, c_n / 4, x, c_n, row, lo, hi, full, out);
}

__attribute__((noinline)) static void dwb_run_full(const dwb_block_t *blk, const int8_t *x, int32_t n, int32_t x_step,
                                                   int32_t c_n, int32_t row, int8_t *out) {
  dwb_run(blk, x, n, x_step, c_n, row, -128, 127, 1, out);
}

__attribute__((noinline)) static void dwb_run_clamped(const dwb_block_t *blk, const int8_t *x, int32_t n, int32_t x_step,
                                                      int32_t c_n, int32_t row, int32_t lo, int32_t hi, int8_t *out) {
  dwb_run(blk, x, n, x_step, c_n, row, lo, hi, 0, out);
}

/* A 3x3, depth-multiplier-1 layer from its table, pixel by pixel in raster order. */
static void dwb_layer_3x3(const tinyflow_dwconv_params_t *p, const dwb_block_t *table, const int8_t *input,
                          int8_t *output) {
  const int32_t c_n = p->output_c, iw = p->input_w, ih = p->input_h, ow = p->output_w, row = iw * c_n;
  const int32_t sw = p->stride_w, lo = p->act_min, hi = p->act_max, off2 = tinyflow_m4_offset2(p->input_offset);
  /* Interior columns [ox_lo, ox_end): the whole 3-wide window inside the input. */
  const int32_t last = iw - 3 + p->pad_w, ox_lo = (p->pad_w + sw - 1) / sw;
  const int32_t ox_end = last < 0 ? 0 : (last / sw + 1 < ow ? last / sw + 1 : ow);
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *in_b = input + b * ih * row;
    for (int32_t oy = 0; oy < p->output_h; ++oy) {
      const int32_t iy0 = oy * p->stride_h - p->pad_h;
      const int32_t fy0 = iy0 < 0 ? -iy0 : 0, fy1 = ih - iy0 < 3 ? ih - iy0 : 3;
      int8_t *out = output + (b * p->output_h + oy) * ow * c_n;
      for (int32_t ox = 0; ox < ow;) {
        const int32_t ix0 = ox * sw - p->pad_w;
        if (fy0 == 0 && fy1 == 3 && ox >= ox_lo && ox < ox_end) {
          const int8_t *x = in_b + (iy0 * iw + ix0) * c_n;
          if (lo == -128 && hi == 127) {
            dwb_run_full(table, x, ox_end - ox, sw * c_n, c_n, row, out + ox * c_n);
          } else {
            dwb_run_clamped(table, x, ox_end - ox, sw * c_n, c_n, row, lo, hi, out + ox * c_n);
          }
          ox = ox_end;
          continue;
        }
        const int32_t fx0 = ix0 < 0 ? -ix0 : 0, fx1 = iw - ix0 < 3 ? iw - ix0 : 3;
        if (fy0 == 0 && fy1 == 3 && fx1 - fx0 == 2) {
          dwb_pixel_side(table, c_n / 4, in_b + (iy0 * iw + ix0 + fx0) * c_n, fx0, c_n, row, off2, lo, hi, out + ox * c_n);
        } else if (fy1 > fy0 && fx1 > fx0) {
          dwb_pixel_clipped(table, c_n / 4, in_b + ((iy0 + fy0) * iw + ix0 + fx0) * c_n, fy0, fy1, fx0, fx1 - fx0, c_n,
                            row, off2, lo, hi, out + ox * c_n);
        } else { /* no tap inside the input: the bias alone */
          dwb_pixel_clipped(table, c_n / 4, in_b, 0, 0, 0, 0, c_n, row, off2, lo, hi, out + ox * c_n);
        }
        ++ox;
      }
    }
  }
}

#endif /* TINYFLOW_KERNELS_CORTEX_M4_DW_3X3_H */
