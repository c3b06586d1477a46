/* Two pixels x two output channels per pass, for firmware/kernels/cortex_m4/conv_2d.c (included
 * there; static functions only): pointwise (1x1) layers, and any other layer once each pixel's
 * window is laid out as one vector (im2col, window_pairs.h).
 *
 * Each pixel's vector of k_n inputs is widened once into 16-bit pairs with the input offset
 * added, in the order SXTB16 gives the filter bytes ((x0,x2), (x1,x3) per word of four), the two
 * pixels interleaved per four inputs (A even, A odd, B even, B odd), so the inner loop loads both
 * with two LDRDs and keeps them in registers for two channels: 17 instructions per 16
 * multiply-accumulates, and the requantization of the four outputs shares its loads. Pointwise
 * layers whose bias carries the compiler's widened filter (PWT_MAGIC, pairs_table) load the filter
 * words ready for SMLAD too: 12 instructions per 16. Pointwise layers whose table the compiler
 * proved exact for the unchecked requantization take pw_lean.h's blocks instead. */
#ifndef TINYFLOW_KERNELS_CORTEX_M4_POINTWISE_H
#define TINYFLOW_KERNELS_CORTEX_M4_POINTWISE_H

#include "requant.h"
#include "requant_fast.h"
#include "simd.h"

/* Longest vector (k_n = filter_h * filter_w * input_c) in the widening buffer: 3x3x32 windows. */
#define PAIRS_MAX_K 288
/* Two pixels' widened vectors: 2 pixels x PAIRS_MAX_K inputs x 2 bytes (1,152 B). */
static int32_t pairs_widened[PAIRS_MAX_K];

typedef struct {
  const int32_t *multiplier, *shift, *bias;
  const int8_t *filter;
  int32_t oc_n, k_n, output_offset, act_min, act_max;
  int right_only, fast;
  /* The compiler's widened filter (pointwise layers: tinyflow/compile/ops/conv.py _pw_table), or 0. */
  const int32_t *table;
} pairs_t;

static pairs_t pairs_setup(const tinyflow_conv_params_t *p, const int32_t *multiplier, const int32_t *shift,
                           const int8_t *filter, const int32_t *bias) {
  const int32_t oc_n = p->output_c;
  /* The fast path's channels also qualify for the right-shift-only one: one scan, not two. */
  const int fast = tinyflow_m4_fast_ok(multiplier, shift, oc_n);
  const pairs_t pw = {multiplier, shift, bias, filter, oc_n, p->filter_h * p->filter_w * p->filter_c,
                      p->output_offset, p->act_min, p->act_max,
                      fast || tinyflow_m4_right_only(multiplier, shift, oc_n), fast, 0};
  return pw;
}

/* Widen n (a multiple of 4) inputs of one pixel into its slot: dst = pairs_widened + 4 g (+ 2 for B). */
static void pairs_widen(const int8_t *x, int32_t n, int32_t off2, int32_t *dst) {
  for (int32_t i = 0; i < n; i += 4, dst += 4) {
    const int32_t xv = tinyflow_m4_load4(x + i);
    dst[0] = __sxtab16(off2, xv);
    dst[1] = tinyflow_m4_sxtab16_ror8(off2, xv);
  }
}

/* Four inputs of both pixels times one filter word of each channel (C twin of the assembly). */
#define PAIRS_STEP_ASM                           \
  "ldrd %[xb0], %[xb1], [%[x], #8]\n\t"          \
  "ldrd %[xa0], %[xa1], [%[x]], #16\n\t"         \
  "ldr %[we], [%[w], %[d]]\n\t"                  \
  "sxtb16 %[wo], %[we], ror #8\n\t"              \
  "sxtb16 %[we], %[we]\n\t"                      \
  "smlad %[a01], %[xa0], %[we], %[a01]\n\t"      \
  "smlad %[a01], %[xa1], %[wo], %[a01]\n\t"      \
  "smlad %[a11], %[xb0], %[we], %[a11]\n\t"      \
  "smlad %[a11], %[xb1], %[wo], %[a11]\n\t"      \
  "ldr %[we], [%[w]], #4\n\t"                    \
  "sxtb16 %[wo], %[we], ror #8\n\t"              \
  "sxtb16 %[we], %[we]\n\t"                      \
  "smlad %[a00], %[xa0], %[we], %[a00]\n\t"      \
  "smlad %[a00], %[xa1], %[wo], %[a00]\n\t"      \
  "smlad %[a10], %[xb0], %[we], %[a10]\n\t"      \
  "smlad %[a10], %[xb1], %[wo], %[a10]\n\t"

/* The pair micro-kernel's word loop in assembly: `words` steps of STEP (PAIRS_STEP_ASM or
 * PAIRS_TSTEP_ASM), unrolled twice; x and w advance past what was read. The caller declares the
 * operands (x, w, a00..a11, xa0..xb1, we, wo); IN is the step's extra input operand (the int8
 * step's channel stride, [d] "r"(k_n)) or nothing. */
#define PAIRS_OPS_HEAD [x] "+r"(x), [w] "+r"(w)
#define PAIRS_OPS_TAIL                                                                                     \
  [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [xa0] "=&r"(xa0), [xa1] "=&r"(xa1), \
      [xb0] "=&r"(xb0), [xb1] "=&r"(xb1), [we] "=&r"(we), [wo] "=&r"(wo)
#define PAIRS_LOOP_ASM(STEP, words, IN)                                                             \
  do {                                                                                              \
    int32_t pairs_n_ = (words) >> 1;                                                                \
    if ((words) & 1) {                                                                              \
      __asm__ volatile(STEP : PAIRS_OPS_HEAD, PAIRS_OPS_TAIL : IN : "memory");                      \
    }                                                                                               \
    if (pairs_n_ > 0) {                                                                             \
      __asm__ volatile("1:\n\t" STEP STEP "subs %[n], %[n], #1\n\t"                                 \
                       "bne 1b\n\t"                                                                 \
                       : PAIRS_OPS_HEAD, [n] "+r"(pairs_n_), PAIRS_OPS_TAIL : IN : "cc", "memory"); \
    }                                                                                               \
  } while (0)

static inline void pairs_mac(const int32_t *x, int32_t w0, int32_t w1, int32_t *acc) {
  const int32_t e0 = __sxtb16(w0), o0 = tinyflow_m4_sxtb16_ror8(w0);
  const int32_t e1 = __sxtb16(w1), o1 = tinyflow_m4_sxtb16_ror8(w1);
  acc[0] = __smlad(x[1], o0, __smlad(x[0], e0, acc[0]));
  acc[1] = __smlad(x[1], o1, __smlad(x[0], e1, acc[1]));
  acc[2] = __smlad(x[3], o0, __smlad(x[2], e0, acc[2]));
  acc[3] = __smlad(x[3], o1, __smlad(x[2], e1, acc[3]));
}

/* acc = {pixel A ch0, pixel A ch1, pixel B ch0, pixel B ch1} += the two dot products each over
 * k_n inputs; channel 1's filter follows channel 0's (w + k_n). */
__attribute__((always_inline)) static inline void pairs_dot_2x2(const int8_t *w, int32_t k_n, int32_t *acc) {
  const int32_t *x = pairs_widened;
  int32_t words = k_n >> 2;
#if TINYFLOW_M4_ASM
  /* 14 registers: GCC cannot hold two pixels, two channels and four sums without spilling. */
  int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
  int32_t xa0, xa1, xb0, xb1, we, wo;
  PAIRS_LOOP_ASM(PAIRS_STEP_ASM, words, [d] "r"(k_n));
  acc[0] = a00, acc[1] = a01, acc[2] = a10, acc[3] = a11;
#else
  for (; words > 0; --words, x += 4, w += 4) pairs_mac(x, tinyflow_m4_load4(w), tinyflow_m4_load4(w + k_n), acc);
#endif
  const int32_t rem = k_n & 3;
  if (rem != 0) {
    /* The last 1-3 taps: the word ending at the filter's end, shifted down, so that no byte past
     * the filter is read; the widened inputs past k_n are 0. */
    const int sh = 8 * (4 - rem);
    pairs_mac(x, (int32_t)((uint32_t)tinyflow_m4_load4(w + rem - 4) >> sh),
              (int32_t)((uint32_t)tinyflow_m4_load4(w + k_n + rem - 4) >> sh), acc);
  }
}

/* Four inputs of both pixels times channels 0 and 1's widened filter words (PWT_MAGIC's table):
 * 12 instructions per 16 multiply-accumulates instead of 17. */
#define PAIRS_TSTEP_ASM                          \
  "ldrd %[xb0], %[xb1], [%[x], #8]\n\t"          \
  "ldrd %[xa0], %[xa1], [%[x]], #16\n\t"         \
  "ldrd %[we], %[wo], [%[w]], #8\n\t"            \
  "smlad %[a00], %[xa0], %[we], %[a00]\n\t"      \
  "smlad %[a00], %[xa1], %[wo], %[a00]\n\t"      \
  "smlad %[a10], %[xb0], %[we], %[a10]\n\t"      \
  "smlad %[a10], %[xb1], %[wo], %[a10]\n\t"      \
  "ldrd %[we], %[wo], [%[w]], #8\n\t"            \
  "smlad %[a01], %[xa0], %[we], %[a01]\n\t"      \
  "smlad %[a01], %[xa1], %[wo], %[a01]\n\t"      \
  "smlad %[a11], %[xb0], %[we], %[a11]\n\t"      \
  "smlad %[a11], %[xb1], %[wo], %[a11]\n\t"

#define PWT_MAGIC 0x34545750 /* "PWT4" */

/* The table after the bias of a pointwise layer with two or more channels (the compiler appends
 * it on DSP builds, checked by shape), or 0. */
static const int32_t *pairs_table(const tinyflow_conv_params_t *p, const int32_t *bias) {
  if (bias == 0 || p->output_c < 2) return 0;
  const int32_t *tail = bias + p->output_c;
  if (tail[0] != (int32_t)PWT_MAGIC || tail[1] != ((p->output_c << 16) ^ p->input_c)) return 0;
  return tail + 2;
}

/* pairs_dot_2x2 over k_n (a multiple of 4) inputs with channels oc, oc + 1's table words t. */
__attribute__((always_inline)) static inline void pairs_dot_2x2_table(const int32_t *t, int32_t k_n, int32_t *acc) {
  const int32_t *x = pairs_widened;
  int32_t words = k_n >> 2;
#if TINYFLOW_M4_ASM
  int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
  int32_t xa0, xa1, xb0, xb1, we, wo;
  const int32_t *w = t;
  PAIRS_LOOP_ASM(PAIRS_TSTEP_ASM, words, );
  acc[0] = a00, acc[1] = a01, acc[2] = a10, acc[3] = a11;
#else
  for (; words > 0; --words, x += 4, t += 4) {
    acc[0] = __smlad(x[1], t[1], __smlad(x[0], t[0], acc[0]));
    acc[2] = __smlad(x[3], t[1], __smlad(x[2], t[0], acc[2]));
    acc[1] = __smlad(x[1], t[3], __smlad(x[0], t[2], acc[1]));
    acc[3] = __smlad(x[3], t[3], __smlad(x[2], t[2], acc[3]));
  }
#endif
}

/* Channels oc, oc + 1 of both pixels added to acc: from the table when there is one. */
__attribute__((always_inline)) static inline void pairs_dot_oc(const pairs_t *pw, int32_t oc, int32_t *acc) {
  if (pw->table != 0) pairs_dot_2x2_table(pw->table + (oc >> 1) * pw->k_n, pw->k_n, acc);
  else pairs_dot_2x2(pw->filter + oc * pw->k_n, pw->k_n, acc);
}

/* One pixel's (slot 0: A, 2: B) dot product with one channel's filter (odd channel counts). */
static int32_t pairs_dot_1(int32_t slot, const int8_t *w, int32_t k_n) {
  const int32_t *x = pairs_widened + slot;
  int32_t a = 0, i = 0;
  for (; i + 4 <= k_n; i += 4, x += 4) {
    const int32_t v = tinyflow_m4_load4(w + i);
    a = __smlad(x[1], tinyflow_m4_sxtb16_ror8(v), __smlad(x[0], __sxtb16(v), a));
  }
  if (i < k_n) {
    const int32_t v = (int32_t)((uint32_t)tinyflow_m4_load4(w + k_n - 4) >> (8 * (4 - (k_n - i))));
    a = __smlad(x[1], tinyflow_m4_sxtb16_ror8(v), __smlad(x[0], __sxtb16(v), a));
  }
  return a;
}

/* Requantize a 2x2 block with the fast path (requant_fast.h); lo4/hi4 are the activation range
 * in four bytes, c = 1 + 2 * output_offset. 0 (nothing stored) when an accumulator is too large
 * for it. */
static inline int pairs_store_fast(const int32_t *acc, const int32_t *mult, const int32_t *shift, int32_t c,
                                   uint32_t lo4, uint32_t hi4, int8_t *out_a, int8_t *out_b) {
  int32_t d[4] = {acc[0], acc[1], acc[2], acc[3]};
  if (tinyflow_m4_double4(d)) return 0;
  const int32_t m0 = mult[0], m1 = mult[1], e0 = tinyflow_m4_fast_e1(shift[0]), e1 = tinyflow_m4_fast_e1(shift[1]);
  const uint32_t v = tinyflow_m4_clamp4(
      tinyflow_m4_pack4(tinyflow_m4_fast_requant(d[0], m0, e0, c), tinyflow_m4_fast_requant(d[1], m1, e1, c),
                        tinyflow_m4_fast_requant(d[2], m0, e0, c), tinyflow_m4_fast_requant(d[3], m1, e1, c)),
      lo4, hi4);
  const uint16_t va = (uint16_t)v, vb = (uint16_t)(v >> 16);
  memcpy(out_a, &va, 2); /* one STRH each: the Cortex-M4 stores halfwords at any alignment */
  memcpy(out_b, &vb, 2);
  return 1;
}

/* Channels oc, oc + 1 of both pixels from their accumulators with the exact requantization (the
 * fast path's fallback: dead channels' huge biases saturate the doubling in real models). */
__attribute__((noinline)) static void pairs_store_exact(const pairs_t *pw, const int32_t *acc, int32_t oc,
                                                        int8_t *out_a, int8_t *out_b) {
  for (int32_t k = 0; k < 2; ++k) {
    const int32_t m = pw->multiplier[oc + k], s = pw->shift[oc + k];
    out_a[oc + k] = tinyflow_m4_requant(pw->right_only, acc[k], m, s, pw->output_offset, pw->act_min, pw->act_max);
    out_b[oc + k] = tinyflow_m4_requant(pw->right_only, acc[2 + k], m, s, pw->output_offset, pw->act_min,
                                        pw->act_max);
  }
}

/* Channels oc, oc + 1 of both pixels with the exact requantization. */
static void pairs_block_exact(const pairs_t *pw, int32_t oc, int8_t *out_a, int8_t *out_b) {
  int32_t acc[4] = {0, 0, 0, 0};
  if (pw->bias != 0) acc[0] = acc[2] = pw->bias[oc], acc[1] = acc[3] = pw->bias[oc + 1];
  pairs_dot_oc(pw, oc, acc);
  pairs_store_exact(pw, acc, oc, out_a, out_b);
}

/* Output channels [oc, oc_n) of both pixels, one at a time, with the exact requantization. */
static void pairs_channels(const pairs_t *pw, int32_t oc, int8_t *out_a, int8_t *out_b) {
  const int32_t k_n = pw->k_n, o_off = pw->output_offset, lo = pw->act_min, hi = pw->act_max;
  const int right_only = pw->right_only;
  for (; oc < pw->oc_n; ++oc) {
    const int32_t b = pw->bias != 0 ? pw->bias[oc] : 0, m = pw->multiplier[oc], s = pw->shift[oc];
    const int8_t *w = pw->filter + oc * k_n;
    const int32_t acc_a = b + pairs_dot_1(0, w, k_n), acc_b = b + pairs_dot_1(2, w, k_n);
    out_a[oc] = tinyflow_m4_requant(right_only, acc_a, m, s, o_off, lo, hi);
    out_b[oc] = tinyflow_m4_requant(right_only, acc_b, m, s, o_off, lo, hi);
  }
}

/* Both pixels' outputs, channels in pairs, when every channel takes the fast requantization. */
__attribute__((noinline)) static void pairs_outputs_fast(const pairs_t *pw, int8_t *out_a, int8_t *out_b) {
  /* Locals, not pw->...: stores through int8_t outputs may alias anything. */
  const int32_t *mult = pw->multiplier, *shift = pw->shift, *bias = pw->bias;
  const int32_t c = 1 + 2 * pw->output_offset, even = pw->oc_n & ~1;
  const uint32_t lo4 = tinyflow_m4_bytes4(pw->act_min), hi4 = tinyflow_m4_bytes4(pw->act_max);
  for (int32_t oc = 0; oc < even; oc += 2) {
    int32_t acc[4] = {0, 0, 0, 0};
    if (bias != 0) acc[0] = acc[2] = bias[oc], acc[1] = acc[3] = bias[oc + 1];
    pairs_dot_oc(pw, oc, acc);
    if (!pairs_store_fast(acc, mult + oc, shift + oc, c, lo4, hi4, out_a + oc, out_b + oc)) {
      pairs_store_exact(pw, acc, oc, out_a, out_b);
    }
  }
  if (even < pw->oc_n) pairs_channels(pw, even, out_a, out_b);
}

/* Both pixels' outputs, channels in pairs, with the exact requantization. */
__attribute__((noinline)) static void pairs_outputs_exact(const pairs_t *pw, int8_t *out_a, int8_t *out_b) {
  const int32_t even = pw->oc_n & ~1;
  for (int32_t oc = 0; oc < even; oc += 2) pairs_block_exact(pw, oc, out_a, out_b);
  if (even < pw->oc_n) pairs_channels(pw, even, out_a, out_b);
}

static void pairs_outputs(const pairs_t *pw, int8_t *out_a, int8_t *out_b) {
  if (pw->fast) pairs_outputs_fast(pw, out_a, out_b);
  else pairs_outputs_exact(pw, out_a, out_b);
}

/* 1 when conv_pointwise_pairs() applies: 1x1, no padding, no groups, depth a multiple of 4
 * that fits the widening buffer. */
static int pointwise_pairs_ok(const tinyflow_conv_params_t *p) {
  return p->filter_h == 1 && p->filter_w == 1 && p->filter_c == p->input_c && p->pad_h == 0 && p->pad_w == 0 &&
         p->input_c % 4 == 0 && p->input_c <= PAIRS_MAX_K;
}

/* Pixels in pairs (in raster order, across rows); an odd last pixel is paired with itself. */
static void conv_pointwise_pairs(const tinyflow_conv_params_t *p, const int32_t *multiplier, const int32_t *shift,
                                 const int8_t *input, const int8_t *filter, const int32_t *bias, int8_t *output) {
  const int32_t depth = p->input_c, oc_n = p->output_c, pixels = p->output_h * p->output_w;
  const int32_t off2 = tinyflow_m4_offset2(p->input_offset);
  pairs_t pw = pairs_setup(p, multiplier, shift, filter, bias);
  pw.table = pairs_table(p, bias);
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *in_b = input + b * p->input_h * p->input_w * depth;
    int8_t *out_b = output + b * pixels * oc_n;
    for (int32_t i = 0; i < pixels; i += 2) {
      const int32_t j = i + 1 < pixels ? i + 1 : i;
      const int32_t ia = ((i / p->output_w) * p->stride_h * p->input_w + (i % p->output_w) * p->stride_w) * depth;
      const int32_t ib = ((j / p->output_w) * p->stride_h * p->input_w + (j % p->output_w) * p->stride_w) * depth;
      pairs_widen(in_b + ia, depth, off2, pairs_widened);
      pairs_widen(in_b + ib, depth, off2, pairs_widened + 2);
      pairs_outputs(&pw, out_b + i * oc_n, out_b + j * oc_n);
    }
  }
}

#endif /* TINYFLOW_KERNELS_CORTEX_M4_POINTWISE_H */
