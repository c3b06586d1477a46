/* DEPTHWISE_CONV_2D for Cortex-M4, every other layer dw_block.h's table serves: any filter size,
 * depth multipliers that are multiples of 4 (a block broadcasts one input value to its four
 * filter taps). Only depthwise_conv_2d.c includes this file. */
#ifndef TINYFLOW_KERNELS_CORTEX_M4_DW_ANY_H
#define TINYFLOW_KERNELS_CORTEX_M4_DW_ANY_H

#include "dw_block.h"

/* One tap of a block that broadcasts one input value: w holds (c, c+2), (c+1, c+3). */
#define DWB_BTAP(xv, w)              \
  do {                               \
    const int32_t xx_ = (xv);        \
    a0 = __smlabb(xx_, (w)[0], a0); \
    a2 = __smlabt(xx_, (w)[0], a2); \
    a1 = __smlabb(xx_, (w)[1], a1); \
    a3 = __smlabt(xx_, (w)[1], a3); \
  } while (0)

/* Any other filter size, or a depth multiplier that is a multiple of 4 (one input value
 * broadcast to the block's four filter taps): taps [fy0, fy1) x [fx0, fx1) of every block of one
 * pixel. Interior windows pass off = 0 with the interior bias, clipped ones the input offset. */
__attribute__((noinline)) static void dwb_pixel_any(const tinyflow_dwconv_params_t *p, const dwb_block_t *blk,
                                                    const int8_t *x, int32_t fy0, int32_t fy1, int32_t fx0,
                                                    int32_t fx1, int interior, int8_t *out) {
  const int32_t c_n = p->output_c, ic_n = p->input_c, dm = p->depth_multiplier, fw = p->filter_w;
  const int32_t x_row = p->input_w * ic_n, words = 20 + 2 * p->filter_h * fw, lo = p->act_min, hi = p->act_max;
  const int32_t off = interior ? 0 : p->input_offset, off2 = tinyflow_m4_offset2(off);
  const int full = lo == -128 && hi == 127;
  for (int32_t c = 0; c < c_n; c += 4, blk = dwb_next(blk, words), out += 4) {
    const int32_t *a_init = interior ? blk->ib : blk->bias2;
    int32_t a0 = a_init[0], a1 = a_init[1], a2 = a_init[2], a3 = a_init[3];
    const int8_t *xr = x + (dm == 1 ? c : c / dm);
    for (int32_t fy = fy0; fy < fy1; ++fy, xr += x_row) {
      const int32_t *w = blk->w + 2 * (fy * fw + fx0);
      const int8_t *xt = xr;
      if (dm == 1) {
        for (int32_t fx = fx0; fx < fx1; ++fx, xt += ic_n, w += 2) {
          const int32_t xv = tinyflow_m4_load4(xt);
          const int32_t xe = __sxtab16(off2, xv), xo = tinyflow_m4_sxtab16_ror8(off2, xv);
          a0 = __smlabb(xe, w[0], a0);
          a2 = __smlatt(xe, w[0], a2);
          a1 = __smlabb(xo, w[1], a1);
          a3 = __smlatt(xo, w[1], a3);
        }
      } else { /* two taps per pass: half the loop overhead (micro_speech's filter is 8 wide) */
        int32_t fx = fx0;
        for (; fx + 2 <= fx1; fx += 2, xt += 2 * ic_n, w += 4) {
          DWB_BTAP(xt[0] + off, w);
          DWB_BTAP(xt[ic_n] + off, w + 2);
        }
        if (fx < fx1) DWB_BTAP(*xt + off, w);
      }
    }
    dwb_store4(blk, a0, a1, a2, a3, lo, hi, full, out);
  }
}

#if TINYFLOW_M4_ASM
/* One broadcast tap: one input byte times the block's four weights (bottom x top halves). */
#define DWB_BCAST(xaddr, wofs)                 \
  "ldrsb %[xv], " xaddr "\n\t"                \
  "ldrd %[we], %[wo], [%[w], #" wofs "]\n\t" \
  "smlabb %[a0], %[xv], %[we], %[a0]\n\t"     \
  "smlabt %[a2], %[xv], %[we], %[a2]\n\t"     \
  "smlabb %[a1], %[xv], %[wo], %[a1]\n\t"     \
  "smlabt %[a3], %[xv], %[wo], %[a3]\n\t"
#define DWB_BROW(w0, w1, w2) \
  DWB_BCAST("[%[x]]", w0) DWB_BCAST("[%[x], %[c]]", w1) DWB_BCAST("[%[x], %[c], lsl #1]", w2)
#endif

/* An interior 3x3 window of a depth-multiplier-4k layer, taps unrolled: per tap one byte load,
 * the weights' LDRD and four MACs (the input offset is in the interior bias). x at the window's
 * top-left tap, input channel 0; block k reads input channel 4k / dm. */
__attribute__((noinline)) static void dwb_pixel_bcast_3x3(const tinyflow_dwconv_params_t *p, const dwb_block_t *blk,
                                                          const int8_t *x, int8_t *out) {
  const int32_t ic_n = p->input_c, row = p->input_w * ic_n, per_x = p->depth_multiplier / 4, nb = p->output_c / 4;
  const int32_t lo = p->act_min, hi = p->act_max;
  const int full = lo == -128 && hi == 127;
  for (int32_t k = 0, j = 0; k < nb; ++k, blk = dwb_next(blk, 38), out += 4) {
    int32_t a0, a1, a2, a3;
#if TINYFLOW_M4_ASM
    /* Hand-scheduled: 0.88x the instructions of the same taps in C (GCC reloads addresses). */
    const int8_t *xr = x;
    int32_t xv, we, wo;
    __asm__("ldrd %[a0], %[a1], [%[w]]\n\t"
            "ldrd %[a2], %[a3], [%[w], #8]\n\t" DWB_BROW("80", "88", "96") "add %[x], %[x], %[row]\n\t" DWB_BROW(
                "104", "112", "120") "add %[x], %[x], %[row]\n\t" DWB_BROW("128", "136", "144")
            : [x] "+r"(xr), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [xv] "=&r"(xv),
              [we] "=&r"(we), [wo] "=&r"(wo)
            : [w] "r"(blk), [c] "r"(ic_n), [row] "r"(row)
            : "memory");
#else
    a0 = blk->ib[0], a1 = blk->ib[1], a2 = blk->ib[2], a3 = blk->ib[3];
    for (int32_t t = 0; t < 9; ++t) DWB_BTAP(x[(t / 3) * row + (t % 3) * ic_n], blk->w + 2 * t);
#endif
    dwb_store4(blk, a0, a1, a2, a3, lo, hi, full, out);
    if (++j == per_x) j = 0, ++x; /* the next input channel after dm / 4 blocks */
  }
}

/* Every pixel of a layer that is not 3x3 with depth multiplier 1. */
static void dwb_layer_any(const tinyflow_dwconv_params_t *p, const dwb_block_t *table, const int8_t *input,
                          int8_t *output) {
  const int32_t fh = p->filter_h, fw = p->filter_w, ih = p->input_h, iw = p->input_w, ic_n = p->input_c;
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *in_b = input + b * ih * iw * ic_n;
    for (int32_t oy = 0; oy < p->output_h; ++oy) {
      const int32_t iy0 = oy * p->stride_h - p->pad_h;
      const int32_t fy0 = iy0 < 0 ? -iy0 : 0, fy1 = ih - iy0 < fh ? ih - iy0 : fh;
      for (int32_t ox = 0; ox < p->output_w; ++ox) {
        const int32_t ix0 = ox * p->stride_w - p->pad_w;
        const int32_t fx0 = ix0 < 0 ? -ix0 : 0, fx1 = iw - ix0 < fw ? iw - ix0 : fw;
        int8_t *out = output + ((b * p->output_h + oy) * p->output_w + ox) * p->output_c;
        const int empty = fy1 <= fy0 || fx1 <= fx0, interior = fy0 == 0 && fy1 == fh && fx0 == 0 && fx1 == fw;
        const int8_t *x = empty ? in_b : in_b + ((iy0 + fy0) * iw + ix0 + fx0) * ic_n;
        if (interior && fh == 3 && fw == 3 && p->depth_multiplier % 4 == 0) {
          dwb_pixel_bcast_3x3(p, table, x, out);
          continue;
        }
        dwb_pixel_any(p, table, x, fy0, empty ? fy0 : fy1, fx0, fx1, interior, out);
      }
    }
  }
}

#endif /* TINYFLOW_KERNELS_CORTEX_M4_DW_ANY_H */
