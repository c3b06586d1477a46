/* The windows of firmware/kernels/cortex_m4/conv_small_cin.h (included there, after its constants;
 * static functions only): each pixel's window widened into its slot of pairs_widened[] in the
 * order of tinyflow/compile/ops/conv_small.py sc_slots. A filter row's whole words give two pairs
 * each (SXTAB16); the last 1-3 bytes of two rows share pairs (PKHBT). Windows with a tap outside
 * the input are gathered into gathered[] first, the outside taps holding the zero point. */
#ifndef TINYFLOW_KERNELS_CORTEX_M4_CONV_SMALL_WINDOW_H
#define TINYFLOW_KERNELS_CORTEX_M4_CONV_SMALL_WINDOW_H

#include "pointwise.h"
#include "simd.h"

/* A layer's window geometry, computed once per call. */
typedef struct {
  const tinyflow_conv_params_t *p;
  int32_t in_row;                  /* bytes per input row */
  int32_t q, r;                    /* a filter row: q whole words and r bytes */
  int32_t iy_max, ix_max, ix_last; /* the last origins whose taps are inside / whose last word is */
  int32_t off2, steps;
  int rgb3x3; /* 3 rows of 9 bytes: sc_widen_3x9 */
} sc_geom_t;

static sc_geom_t sc_geom(const tinyflow_conv_params_t *p) {
  const int32_t ic = p->input_c, in_row = p->input_w * ic, row = p->filter_w * ic;
  const sc_geom_t g = {p,
                       in_row,
                       row >> 2,
                       row & 3,
                       p->input_h - p->filter_h,
                       p->input_w - p->filter_w,
                       (in_row - 4 * ((row + 3) >> 2)) / ic, /* negative: no window of the last row */
                       tinyflow_m4_offset2(p->input_offset),
                       sc_steps(p),
                       p->filter_h == 3 && row == 9};
  return g;
}

/* Word k of a row at x widened into pairs 2k, 2k + 1 of a slot (d[SC_XSTEP k], d[SC_XSTEP k + 1]). */
#define SC_WORD(x, k, d)                                                                          \
  do {                                                                                            \
    const int32_t v_ = tinyflow_m4_load4((x) + 4 * (k));                                          \
    sc_store2((d) + SC_XSTEP * (k), __sxtab16(off2, v_), tinyflow_m4_sxtab16_ror8(off2, v_)); \
  } while (0)
/* Pair j of a slot is d[SC_XSTEP (j / 2) + j % 2] (two pairs a step, the other pixels' between). */
#define SC_PUT(v) (d[par] = (v), d += par * SC_XSTEP, par ^= 1)

/* a's low halfword, b's low halfword above it: one PKHBT (GCC makes UXTH and ORR of the C). */
static inline int32_t sc_pack_lo(int32_t a, int32_t b) {
  int32_t r;
  __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
  return r;
}

/* d[k] = lo, d[k + 1] = hi (k a constant) in one STRD: GCC splits 64-bit stores in two. */
#if TINYFLOW_M4_ASM
#define SC_STORE2(d, k, lo, hi) __asm__ volatile("strd %1, %2, [%0, %3]" : : "r"(d), "r"(lo), "r"(hi), "i"(4 * (k)) : "memory")
#else
#define SC_STORE2(d, k, lo, hi) ((d)[k] = (lo), (d)[(k) + 1] = (hi))
#endif
static inline void sc_store2(int32_t *d, int32_t lo, int32_t hi) {
  SC_STORE2(d, 0, lo, hi);
}

/* A window's rows (stride bytes apart from src) widened into a pixel's slot, in sc_slots order.
 * Unrolled per row length: this runs once per pixel, before every channel pair. */
__attribute__((always_inline)) static inline void sc_widen_rows(const sc_geom_t *g, const int8_t *src,
                                                                int32_t stride, int32_t *d) {
  const int32_t off2 = g->off2, q = g->q, r = g->r, fh = g->p->filter_h;
  const int8_t *row = src;
  int32_t fy = fh;
  switch (q) {
    case 0:
      break;
    case 1:
      for (; fy > 0; --fy, row += stride, d += SC_XSTEP) SC_WORD(row, 0, d);
      break;
    case 2:
      for (; fy > 0; --fy, row += stride, d += 2 * SC_XSTEP) {
        SC_WORD(row, 0, d);
        SC_WORD(row, 1, d);
      }
      break;
    case 3:
      for (; fy > 0; --fy, row += stride, d += 3 * SC_XSTEP) {
        SC_WORD(row, 0, d);
        SC_WORD(row, 1, d);
        SC_WORD(row, 2, d);
      }
      break;
    default:
      for (; fy > 0; --fy, row += stride) {
        for (int32_t k = 0; k < q; ++k, d += SC_XSTEP) SC_WORD(row + 4 * k, 0, d);
      }
  }
  if (r == 0) return;
  int32_t par = 0;
  row = src + 4 * q;
  for (fy = fh >> 1; fy > 0; --fy, row += 2 * stride) {
    const int32_t va = tinyflow_m4_load4(row), vb = tinyflow_m4_load4(row + stride);
    const int32_t ea = __sxtab16(off2, va), eb = __sxtab16(off2, vb);
    if (r == 2) { /* a whole step */
      sc_store2(d, sc_pack_lo(ea, eb),
                sc_pack_lo(tinyflow_m4_sxtab16_ror8(off2, va), tinyflow_m4_sxtab16_ror8(off2, vb)));
      d += SC_XSTEP;
      continue;
    }
    if (r == 3) {
      SC_PUT(ea);
      SC_PUT(eb);
      SC_PUT(sc_pack_lo(tinyflow_m4_sxtab16_ror8(off2, va), tinyflow_m4_sxtab16_ror8(off2, vb)));
    } else {
      SC_PUT(sc_pack_lo(ea, eb));
    }
  }
  if (fh & 1) { /* the lanes past the row's bytes meet zero weights */
    const int32_t va = tinyflow_m4_load4(row);
    SC_PUT(__sxtab16(off2, va));
    if (r >= 2) SC_PUT(tinyflow_m4_sxtab16_ror8(off2, va));
  }
}

/* sc_widen_rows for 3 rows of 9 bytes (3x3 filters on RGB inputs, the first layer of most
 * vision models), straight: 9 loads, 16 widenings, 7 double stores. */
__attribute__((always_inline)) static inline void sc_widen_3x9(const int8_t *src, int32_t stride, int32_t off2,
                                                               int32_t *d) {
  const int8_t *r1 = src + stride, *r2 = r1 + stride;
  int32_t v = tinyflow_m4_load4(src);
  SC_STORE2(d, 0, __sxtab16(off2, v), tinyflow_m4_sxtab16_ror8(off2, v));
  v = tinyflow_m4_load4(src + 4);
  SC_STORE2(d, 1 * SC_XSTEP, __sxtab16(off2, v), tinyflow_m4_sxtab16_ror8(off2, v));
  v = tinyflow_m4_load4(r1);
  SC_STORE2(d, 2 * SC_XSTEP, __sxtab16(off2, v), tinyflow_m4_sxtab16_ror8(off2, v));
  v = tinyflow_m4_load4(r1 + 4);
  SC_STORE2(d, 3 * SC_XSTEP, __sxtab16(off2, v), tinyflow_m4_sxtab16_ror8(off2, v));
  v = tinyflow_m4_load4(r2);
  SC_STORE2(d, 4 * SC_XSTEP, __sxtab16(off2, v), tinyflow_m4_sxtab16_ror8(off2, v));
  v = tinyflow_m4_load4(r2 + 4);
  SC_STORE2(d, 5 * SC_XSTEP, __sxtab16(off2, v), tinyflow_m4_sxtab16_ror8(off2, v));
  const int32_t t0 = __sxtab16(off2, tinyflow_m4_load4(src + 8)), t1 = __sxtab16(off2, tinyflow_m4_load4(r1 + 8));
  SC_STORE2(d, 6 * SC_XSTEP, sc_pack_lo(t0, t1), __sxtab16(off2, tinyflow_m4_load4(r2 + 8)));
}

/* An edge window into gathered[] (filter rows of filter_w * input_c bytes): the taps outside the
 * input hold the zero point (x + input_offset = 0 there, as the reference skips them). */
__attribute__((noinline)) static void sc_gather_edge(const tinyflow_conv_params_t *p, const int8_t *in_b, int32_t iy0,
                                                     int32_t ix0) {
  const int32_t ic = p->input_c, row = p->filter_w * ic;
  const int8_t zero_point = (int8_t)(-p->input_offset);
  const int32_t fx0 = ix0 < 0 ? -ix0 : 0, fx1 = ix0 + p->filter_w > p->input_w ? p->input_w - ix0 : p->filter_w;
  const int32_t lo = fx0 * ic, hi = fx1 > fx0 ? fx1 * ic : lo; /* the row's inside bytes */
  int8_t *dst = gathered;
  for (int32_t fy = 0, iy = iy0; fy < p->filter_h; ++fy, ++iy, dst += row) {
    const int inside = iy >= 0 && iy < p->input_h;
    const int32_t in_lo = inside ? lo : row, in_hi = inside ? hi : row;
    const int8_t *src = inside ? in_b + (iy * p->input_w + ix0) * ic : in_b; /* read from in_lo on */
    int32_t k = 0;
    for (; k < in_lo; ++k) dst[k] = zero_point;
    for (; k < in_hi; ++k) dst[k] = src[k];
    for (; k < row; ++k) dst[k] = zero_point;
  }
}

/* One pixel's window (origin iy0, ix0) widened into its slot dst: from the input when every tap
 * and every word read is inside it, else through sc_gather_edge. */
__attribute__((always_inline)) static inline void sc_window(const sc_geom_t *g, const int8_t *in_b, int32_t iy0,
                                                            int32_t ix0, int32_t *dst) {
  const tinyflow_conv_params_t *p = g->p;
  const int8_t *src = gathered;
  int32_t stride = 4 * g->q + g->r;
  if (iy0 >= 0 && ix0 >= 0 && ix0 <= g->ix_max && (iy0 < g->iy_max || (iy0 == g->iy_max && ix0 <= g->ix_last))) {
    src = in_b + iy0 * g->in_row + ix0 * p->input_c, stride = g->in_row;
  } else {
    sc_gather_edge(p, in_b, iy0, ix0);
  }
  if (g->rgb3x3) sc_widen_3x9(src, stride, g->off2, dst);
  else sc_widen_rows(g, src, stride, dst);
}

#endif /* TINYFLOW_KERNELS_CORTEX_M4_CONV_SMALL_WINDOW_H */
