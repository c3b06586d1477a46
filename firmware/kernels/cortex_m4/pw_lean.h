/* Pointwise (1x1) layers with a lean epilogue, for firmware/kernels/cortex_m4/conv_2d.c (included
 * there after pointwise.h; static functions only).
 *
 * pointwise.h's 2-pixel x 2-channel kernel spends ~110 instructions per block around its inner
 * loop (bias, multiplier and shift lookups by index, the saturation check of the fast
 * requantization, spills): more than the multiply-accumulates of an 8- to 32-deep layer. Here the
 * compiler (tinyflow/compile/ops/pw_lean.py) lays out, per pair of channels, everything the block
 * reads in the order it reads it, walked by one pointer:
 *   2 bias0, 2 bias1, [the pair's widened filter, doubled], m0, e0, m1, e1
 * (e: ~shift in the low byte, c = 1 + 2 output_offset in the high half, bit 8 on the last pair's
 * e1), and it proves offline that no accumulator reaches 2^30 (or that the channel's output is
 * constant: a dead channel's block then gives that constant) and that every channel takes the fast
 * requantization (requant_fast.h). So the block accumulates 2 acc directly (doubled filter words,
 * or doubled widened inputs when the filter is not in the table) and checks no saturation. The
 * activation clamp is skipped when the range is the whole int8 range (SSAT did it). The depths of
 * MobileNet, DS-CNN and ResNet pointwise layers (8 to 128) run as straight-line assembly. */
#ifndef TINYFLOW_KERNELS_CORTEX_M4_PW_LEAN_H
#define TINYFLOW_KERNELS_CORTEX_M4_PW_LEAN_H

#include "pointwise.h"

#define PWL_MAGIC 0x354C5750 /* "PWL5" */
#define PWL_WEIGHTS 1        /* head flag: the pairs' widened, doubled filters are in the table */

typedef struct {
  const int32_t *table; /* the first pair's block */
  const int8_t *filter; /* the int8 filter (read when the table has no weights) */
  int32_t k_n, pairs, c, off2;
  uint32_t lo4, hi4;
} pwl_t;

/* The head after the bias of a pointwise layer the compiler proved for this kernel, or 0. */
static const int32_t *pwl_head(const tinyflow_conv_params_t *p, const int32_t *bias) {
  if (bias == 0 || !pointwise_pairs_ok(p) || p->output_c < 2) return 0;
  const int32_t *tail = bias + p->output_c;
  if (tail[0] != (int32_t)PWL_MAGIC || tail[1] != ((p->output_c << 16) ^ p->input_c)) return 0;
  return tail;
}

/* Both pixels' n inputs widened into pairs_widened in pairs_widen's layout (A even, A odd, B even,
 * B odd per four inputs) in one pass; each lane doubled when dbl: 2 (x + offset) in [-510, 510]
 * fits the halfword. */
__attribute__((always_inline)) static inline void pwl_widen(const int8_t *xa, const int8_t *xb, int32_t n,
                                                            int32_t off2, int dbl) {
  int32_t *dst = pairs_widened;
  for (int32_t i = 0; i < n; i += 4, dst += 4) {
    const int32_t va = tinyflow_m4_load4(xa + i), vb = tinyflow_m4_load4(xb + i);
    int32_t ae = __sxtab16(off2, va), ao = tinyflow_m4_sxtab16_ror8(off2, va);
    int32_t be = __sxtab16(off2, vb), bo = tinyflow_m4_sxtab16_ror8(off2, vb);
    if (dbl) ae = __sadd16(ae, ae), ao = __sadd16(ao, ao), be = __sadd16(be, be), bo = __sadd16(bo, bo);
    dst[0] = ae, dst[1] = ao, dst[2] = be, dst[3] = bo;
  }
}

/* pwl_widen, not doubled, of a known number of words (four inputs each), as straight-line code. */
__attribute__((always_inline)) static inline void pwl_widen_fixed(const int8_t *xa, const int8_t *xb,
                                                                  const int32_t words, int32_t off2) {
  int32_t *dst = pairs_widened;
#pragma GCC unroll 32
  for (int32_t i = 0; i < words; ++i, dst += 4) {
    const int32_t va = tinyflow_m4_load4(xa + 4 * i), vb = tinyflow_m4_load4(xb + 4 * i);
    dst[0] = __sxtab16(off2, va), dst[1] = tinyflow_m4_sxtab16_ror8(off2, va);
    dst[2] = __sxtab16(off2, vb), dst[3] = tinyflow_m4_sxtab16_ror8(off2, vb);
  }
}

/* acc (A0, A1, B0, B1) += the pair's dot products over words = k_n / 4 input words: filter words
 * from the table (*tp advances past them) or int8 from *wp (channel 1 at + k_n; *wp advances 4
 * bytes a word). */
__attribute__((always_inline)) static inline void pwl_dot(const int32_t **tp, const int8_t **wp, int32_t words,
                                                          int32_t k_n, int weights, int32_t *acc) {
  const int32_t *x = pairs_widened;
  int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
#if TINYFLOW_M4_ASM
  int32_t xa0, xa1, xb0, xb1, we, wo;
  if (weights) {
    const int32_t *w = *tp;
    PAIRS_LOOP_ASM(PAIRS_TSTEP_ASM, words, );
    *tp = w;
  } else {
    const int8_t *w = *wp;
    PAIRS_LOOP_ASM(PAIRS_STEP_ASM, words, [d] "r"(k_n));
    *wp = w;
  }
#else
  for (int32_t i = 0; i < words; ++i, x += 4) {
    int32_t e0, o0, e1, o1;
    if (weights) {
      const int32_t *t = *tp;
      e0 = t[0], o0 = t[1], e1 = t[2], o1 = t[3];
      *tp = t + 4;
    } else {
      const int32_t v0 = tinyflow_m4_load4(*wp), v1 = tinyflow_m4_load4(*wp + k_n);
      e0 = __sxtb16(v0), o0 = tinyflow_m4_sxtb16_ror8(v0), e1 = __sxtb16(v1), o1 = tinyflow_m4_sxtb16_ror8(v1);
      *wp += 4;
    }
    a00 = __smlad(x[1], o0, __smlad(x[0], e0, a00));
    a10 = __smlad(x[3], o0, __smlad(x[2], e0, a10));
    a01 = __smlad(x[1], o1, __smlad(x[0], e1, a01));
    a11 = __smlad(x[3], o1, __smlad(x[2], e1, a11));
  }
#endif
  acc[0] = a00, acc[1] = a01, acc[2] = a10, acc[3] = a11;
}

/* Both pixels' channel pairs (outputs oa, ob advance 2 bytes a pair); weights and clamp are
 * constants in each caller, so each variant compiles without the other's branches. */
__attribute__((always_inline)) static inline void pwl_pairs(const pwl_t *L, const int8_t *xa, const int8_t *xb,
                                                            int8_t *oa, int8_t *ob, int weights, int clamp) {
  pwl_widen(xa, xb, L->k_n, L->off2, !weights);
  const int32_t *t = L->table;
  const int8_t *w = L->filter;
  const int32_t k_n = L->k_n, words = k_n >> 2, c = L->c;
  const uint32_t lo4 = L->lo4, hi4 = L->hi4;
  for (int32_t n = L->pairs; n > 0; --n) {
    int32_t acc[4];
    acc[0] = acc[2] = t[0];
    acc[1] = acc[3] = t[1];
    t += 2;
    pwl_dot(&t, &w, words, k_n, weights, acc);
    if (!weights) w += k_n; /* past channel 1's filter */
    const int32_t m0 = t[0], e0 = t[1], m1 = t[2], e1 = t[3];
    t += 4;
    const int32_t ya0 = tinyflow_m4_fast_requant(acc[0], m0, e0, c), ya1 = tinyflow_m4_fast_requant(acc[1], m1, e1, c);
    const int32_t yb0 = tinyflow_m4_fast_requant(acc[2], m0, e0, c), yb1 = tinyflow_m4_fast_requant(acc[3], m1, e1, c);
    uint32_t v = tinyflow_m4_pack4(ya0, ya1, yb0, yb1);
    if (clamp) v = tinyflow_m4_clamp4(v, lo4, hi4);
    const uint16_t va = (uint16_t)v, vb = (uint16_t)(v >> 16);
    memcpy(oa, &va, 2); /* one STRH each: the Cortex-M4 stores halfwords at any alignment */
    memcpy(ob, &vb, 2);
    oa += 2, ob += 2;
  }
}

#if TINYFLOW_M4_ASM
/* One word (four inputs of both pixels) of the pair's dot products: x never moves (the word's
 * offset is an immediate), the table pointer t walks. */
#define PWL_WORD_ASM                                   \
  "ldrd %[xb0], %[xb1], [%[x], #pwl_i*16+8]\n\t"      \
  "ldrd %[xa0], %[xa1], [%[x], #pwl_i*16]\n\t"        \
  "ldrd %[we], %[wo], [%[t]], #8\n\t"                 \
  "smlad %[a00], %[xa0], %[we], %[a00]\n\t"           \
  "smlad %[a00], %[xa1], %[wo], %[a00]\n\t"           \
  "smlad %[a10], %[xb0], %[we], %[a10]\n\t"           \
  "smlad %[a10], %[xb1], %[wo], %[a10]\n\t"           \
  "ldrd %[we], %[wo], [%[t]], #8\n\t"                 \
  "smlad %[a01], %[xa0], %[we], %[a01]\n\t"           \
  "smlad %[a01], %[xa1], %[wo], %[a01]\n\t"           \
  "smlad %[a11], %[xb0], %[we], %[a11]\n\t"           \
  "smlad %[a11], %[xb1], %[wo], %[a11]\n\t"

/* One output in place from its doubled accumulator: the multiplier in m, the exponent e - 1 in
 * e's low byte and c = 1 + 2 output_offset in its high half (requant_fast.h's five steps). */
#define PWL_REQUANT_ASM(a, m, e)                       \
  "smmulr %[" a "], %[" a "], %[" m "]\n\t"           \
  "sub %[" a "], %[" a "], %[" a "], lsr #31\n\t"     \
  "asr %[" a "], %[" a "], %[" e "]\n\t"              \
  "add %[" a "], %[" a "], %[" e "], asr #16\n\t"     \
  "ssat %[" a "], #8, %[" a "], asr #1\n\t"

/* Every channel pair of both pixels in one block of assembly (14 registers, nothing spilled),
 * for a table with weights, `words` words deep, outputs not clamped (the whole int8 range):
 * 12 instructions a word and 29 a pair (20 of them requantize). The first word starts from the biases (in we, wo);
 * channel 0's filter words pass through a01, a11 before those accumulate. The last pair's e1
 * carries bit 8 (the compiler sets it): the loop's end without a counter. */
__attribute__((always_inline)) static inline void pwl_pairs_asm(const pwl_t *L, const int8_t *xa, const int8_t *xb,
                                                                int8_t *oa, int8_t *ob, const int32_t words) {
  pwl_widen_fixed(xa, xb, words, L->off2);
  const int32_t *t = L->table, *x = pairs_widened;
  const int32_t d = (int32_t)(ob - oa);
  int32_t a00, a01, a10, a11, xa0, xa1, xb0, xb1, we, wo;
  __asm__ volatile(
      "1:\n\t"
      "ldrd %[we], %[wo], [%[t]], #8\n\t"
      "ldrd %[xb0], %[xb1], [%[x], #8]\n\t"
      "ldrd %[xa0], %[xa1], [%[x]]\n\t"
      "ldrd %[a01], %[a11], [%[t]], #8\n\t"
      "smlad %[a00], %[xa0], %[a01], %[we]\n\t"
      "smlad %[a00], %[xa1], %[a11], %[a00]\n\t"
      "smlad %[a10], %[xb0], %[a01], %[we]\n\t"
      "smlad %[a10], %[xb1], %[a11], %[a10]\n\t"
      "ldrd %[a01], %[we], [%[t]], #8\n\t"
      "smlad %[a11], %[xb0], %[a01], %[wo]\n\t"
      "smlad %[a11], %[xb1], %[we], %[a11]\n\t"
      "smlad %[a01], %[xa0], %[a01], %[wo]\n\t"
      "smlad %[a01], %[xa1], %[we], %[a01]\n\t"
      ".set pwl_i, 1\n\t"
      ".rept %c[words] - 1\n\t" PWL_WORD_ASM ".set pwl_i, pwl_i + 1\n\t"
      ".endr\n\t"
      "ldrd %[xa0], %[xa1], [%[t]], #8\n\t" PWL_REQUANT_ASM("a00", "xa0", "xa1") PWL_REQUANT_ASM("a10", "xa0", "xa1")
      "ldrd %[xa0], %[xa1], [%[t]], #8\n\t" PWL_REQUANT_ASM("a01", "xa0", "xa1") PWL_REQUANT_ASM("a11", "xa0", "xa1")
      "bfi %[a00], %[a01], #8, #8\n\t"
      "bfi %[a10], %[a11], #8, #8\n\t"
      "strh %[a10], [%[oa], %[d]]\n\t"
      "strh %[a00], [%[oa]], #2\n\t"
      "tst %[xa1], #256\n\t"
      "beq 1b\n\t"
      : [t] "+r"(t), [oa] "+r"(oa), [a00] "=&r"(a00), [a01] "=&r"(a01), [a10] "=&r"(a10), [a11] "=&r"(a11),
        [xa0] "=&r"(xa0), [xa1] "=&r"(xa1), [xb0] "=&r"(xb0), [xb1] "=&r"(xb1), [we] "=&r"(we), [wo] "=&r"(wo)
      : [x] "r"(x), [d] "r"(d), [words] "i"(words)
      : "cc", "memory");
}

#define PWL_ASM_VARIANT(name, words)                                                                         \
  __attribute__((noinline)) static void name(const pwl_t *L, const int8_t *xa, const int8_t *xb, int8_t *oa, \
                                             int8_t *ob) {                                                  \
    pwl_pairs_asm(L, xa, xb, oa, ob, words);                                                                 \
  }
PWL_ASM_VARIANT(pwl_pairs_a2, 2)
PWL_ASM_VARIANT(pwl_pairs_a4, 4)
PWL_ASM_VARIANT(pwl_pairs_a8, 8)
PWL_ASM_VARIANT(pwl_pairs_a16, 16)
PWL_ASM_VARIANT(pwl_pairs_a32, 32)
#endif

/* The C variants: weights in the table or not, clamp or not (constants in each, so each compiles
 * without the other's branches). */
#define PWL_VARIANT(name, weights, clamp)                                                                    \
  __attribute__((noinline)) static void name(const pwl_t *L, const int8_t *xa, const int8_t *xb, int8_t *oa, \
                                             int8_t *ob) {                                                  \
    pwl_pairs(L, xa, xb, oa, ob, weights, clamp);                                                           \
  }
PWL_VARIANT(pwl_pairs_tc, 1, 1)
PWL_VARIANT(pwl_pairs_t, 1, 0)
PWL_VARIANT(pwl_pairs_fc, 0, 1)
PWL_VARIANT(pwl_pairs_f, 0, 0)

/* Widen both pixels (xa, xb), then every channel pair of both (outputs oa, ob). */
typedef void (*pwl_pairs_fn)(const pwl_t *, const int8_t *, const int8_t *, int8_t *, int8_t *);

/* The assembly for the depths of the corpus' pointwise layers (MobileNets, DS-CNN, ResNet
 * shortcuts) when the filter is in the table and nothing is clamped; the C loops otherwise. */
static pwl_pairs_fn pwl_pairs_for(int32_t k_n, int weights, int clamp) {
  if (!weights) return clamp ? pwl_pairs_fc : pwl_pairs_f;
#if TINYFLOW_M4_ASM
  if (!clamp) {
    switch (k_n) {
      case 8: return pwl_pairs_a2;
      case 16: return pwl_pairs_a4;
      case 32: return pwl_pairs_a8;
      case 64: return pwl_pairs_a16;
      case 128: return pwl_pairs_a32;
      default: break;
    }
  }
#else
  (void)k_n;
#endif
  return clamp ? pwl_pairs_tc : pwl_pairs_t;
}

/* The odd last channel of both pixels, exactly (the widened inputs are doubled when dbl). */
static void pwl_last(const tinyflow_conv_params_t *p, const int32_t *multiplier, const int32_t *shift,
                     const int8_t *filter, const int32_t *bias, int dbl, int8_t *oa, int8_t *ob) {
  const int32_t oc = p->output_c - 1, k_n = p->input_c, m = multiplier[oc], s = shift[oc];
  const int8_t *w = filter + oc * k_n;
  /* A doubled dot product is even and fits: |dot| <= PAIRS_MAX_K * 127 * 255 < 2^30. */
  const int32_t a = bias[oc] + (pairs_dot_1(0, w, k_n) >> dbl), b = bias[oc] + (pairs_dot_1(2, w, k_n) >> dbl);
  oa[oc] = tinyflow_m4_requant(1, a, m, s, p->output_offset, p->act_min, p->act_max);
  ob[oc] = tinyflow_m4_requant(1, b, m, s, p->output_offset, p->act_min, p->act_max);
}

/* The next output pixel's input (raster order; ox counts along the output row). */
static inline const int8_t *pwl_next(const int8_t *x, int32_t *ox, int32_t ow, int32_t col, int32_t row_skip) {
  x += col;
  if (++*ox == ow) *ox = 0, x += row_skip;
  return x;
}

/* Pixels in pairs (in raster order, across rows); an odd last pixel is paired with itself. */
static void conv_pointwise_lean(const tinyflow_conv_params_t *p, const int32_t *head, const int32_t *multiplier,
                                const int32_t *shift, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, int8_t *output) {
  const int32_t depth = p->input_c, oc_n = p->output_c, pixels = p->output_h * p->output_w, ow = p->output_w;
  const int32_t off2 = tinyflow_m4_offset2(p->input_offset);
  const int weights = (head[2] & PWL_WEIGHTS) != 0, clamp = p->act_min > -128 || p->act_max < 127;
  const pwl_t L = {head + 3, filter, depth, oc_n >> 1, 1 + 2 * p->output_offset, off2,
                   tinyflow_m4_bytes4(p->act_min), tinyflow_m4_bytes4(p->act_max)};
  const pwl_pairs_fn pairs = pwl_pairs_for(depth, weights, clamp);
  /* From the last pixel of an output row to the first of the next: the rows' stride less the row. */
  const int32_t col = p->stride_w * depth, row_skip = p->stride_h * p->input_w * depth - ow * col;
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *x = input + b * p->input_h * p->input_w * depth;
    int8_t *out = output + b * pixels * oc_n;
    int32_t ox = 0;
    for (int32_t i = 0; i < pixels; i += 2) {
      const int8_t *xa = x, *xb = x;
      int8_t *ob = out;
      x = pwl_next(x, &ox, ow, col, row_skip);
      if (i + 1 < pixels) xb = x, ob = out + oc_n, x = pwl_next(x, &ox, ow, col, row_skip);
      pairs(&L, xa, xb, out, ob);
      if (oc_n & 1) pwl_last(p, multiplier, shift, filter, bias, !weights, out, ob);
      out += 2 * oc_n;
    }
  }
}

#endif /* TINYFLOW_KERNELS_CORTEX_M4_PW_LEAN_H */
