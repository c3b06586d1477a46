/* FULLY_CONNECTED int8 for Cortex-M4 (DSP): same function and results as
 * firmware/kernels/fully_connected.c. The input offset is folded into the bias on the host, so
 * the dot products are plain int8; four output rows share each widened word of input, and their
 * requantization (requant_fast.h where it applies) ends in one word store. Layers whose folded bias
 * carries the compiler's widened weights (FCW_MAGIC) read those instead of widening every weight;
 * rows past the last block of four and the depth's last 1-3 inputs still read the int8 weights.
 * The head after the folded bias also says which requantization applies (decided at compile time)
 * and whether a layer without a table has its int8 weights interleaved per block of four rows
 * (the DSP build's copy of the weights, same bytes in another order: no extra flash). */
#include "tinyflow/kernels/fully_connected.h"

#include "requant.h"
#include "requant_fast.h"
#include "simd.h"

/* Four inputs times one word of each of four rows: rows 1 and 0 from wa (row 1 at wa + depth),
 * rows 3 and 2 from wb; the input word is widened once for the four rows. */
#define FC_STEP_ASM                            \
  "ldr %[t], [%[x]], #4\n\t"                   \
  "sxtb16 %[xe], %[t]\n\t"                     \
  "sxtb16 %[xo], %[t], ror #8\n\t"             \
  "ldr %[wv], [%[wa], %[d]]\n\t"               \
  "sxtb16 %[t], %[wv]\n\t"                     \
  "smlad %[a1], %[xe], %[t], %[a1]\n\t"        \
  "sxtb16 %[wv], %[wv], ror #8\n\t"            \
  "smlad %[a1], %[xo], %[wv], %[a1]\n\t"       \
  "ldr %[wv], [%[wa]], #4\n\t"                 \
  "sxtb16 %[t], %[wv]\n\t"                     \
  "smlad %[a0], %[xe], %[t], %[a0]\n\t"        \
  "sxtb16 %[wv], %[wv], ror #8\n\t"            \
  "smlad %[a0], %[xo], %[wv], %[a0]\n\t"       \
  "ldr %[wv], [%[wb], %[d]]\n\t"               \
  "sxtb16 %[t], %[wv]\n\t"                     \
  "smlad %[a3], %[xe], %[t], %[a3]\n\t"        \
  "sxtb16 %[wv], %[wv], ror #8\n\t"            \
  "smlad %[a3], %[xo], %[wv], %[a3]\n\t"       \
  "ldr %[wv], [%[wb]], #4\n\t"                 \
  "sxtb16 %[t], %[wv]\n\t"                     \
  "smlad %[a2], %[xe], %[t], %[a2]\n\t"        \
  "sxtb16 %[wv], %[wv], ror #8\n\t"            \
  "smlad %[a2], %[xo], %[wv], %[a2]\n\t"

/* acc[k] = sum_i x[i] * w[k * depth + i] for k < 4. The word loop is written in assembly
 * because GCC spills pointers there: 24 instructions per 16 multiply-accumulates (unrolled
 * twice) instead of 31. */
/* Not inlined: its assembly needs 13 registers, more than the caller's block loop leaves free. It
 * serves only layers without the compiler's head or with shared weights (the others read a table
 * or interleaved weights), so the call costs little. */
__attribute__((noinline)) static void dot_rows4(const int8_t *x, const int8_t *w, int32_t depth, int32_t *acc) {
  const int8_t *wa = w, *wb = w + 2 * depth; /* rows 0,1 from wa; rows 2,3 from wb */
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, i;
  int32_t words = depth >> 2;
#if TINYFLOW_M4_ASM
  int32_t xe, xo, wv, t;
  if (words & 1) {
    __asm__ volatile(FC_STEP_ASM
                     : [x] "+r"(x), [wa] "+r"(wa), [wb] "+r"(wb), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2),
                       [a3] "+r"(a3), [xe] "=&r"(xe), [xo] "=&r"(xo), [wv] "=&r"(wv), [t] "=&r"(t)
                     : [d] "r"(depth)
                     : "memory");
  }
  words >>= 1;
  if (words > 0) {
    __asm__ volatile("1:\n\t" FC_STEP_ASM FC_STEP_ASM
                     "subs %[n], %[n], #1\n\t"
                     "bne 1b\n\t"
                     : [x] "+r"(x), [wa] "+r"(wa), [wb] "+r"(wb), [n] "+r"(words), [a0] "+r"(a0), [a1] "+r"(a1),
                       [a2] "+r"(a2), [a3] "+r"(a3), [xe] "=&r"(xe), [xo] "=&r"(xo), [wv] "=&r"(wv), [t] "=&r"(t)
                     : [d] "r"(depth)
                     : "cc", "memory");
  }
#else
  for (; words > 0; --words, x += 4, wa += 4, wb += 4) {
    const int32_t xv = tinyflow_m4_load4(x);
    const int32_t xe = __sxtb16(xv), xo = tinyflow_m4_sxtb16_ror8(xv);
    int32_t wv = tinyflow_m4_load4(wa);
    a0 = __smlad(xo, tinyflow_m4_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), a0));
    wv = tinyflow_m4_load4(wa + depth);
    a1 = __smlad(xo, tinyflow_m4_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), a1));
    wv = tinyflow_m4_load4(wb);
    a2 = __smlad(xo, tinyflow_m4_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), a2));
    wv = tinyflow_m4_load4(wb + depth);
    a3 = __smlad(xo, tinyflow_m4_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), a3));
  }
#endif
  for (i = 0; i < (depth & 3); ++i) {
    a0 += x[i] * wa[i];
    a1 += x[i] * wa[depth + i];
    a2 += x[i] * wb[i];
    a3 += x[i] * wb[depth + i];
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

/* Four inputs times one word of each of four rows with the weights interleaved per block
 * (fcw_interleave: rows 0-3's words of these four inputs in 16 bytes): two LDRDs read them through
 * one pointer, 21 instructions per 16 multiply-accumulates instead of 23. */
#define FCI_PAIR_ASM(a, b)                      \
  "ldrd %[w0], %[w1], [%[w]], #8\n\t"           \
  "sxtb16 %[t], %[w0]\n\t"                      \
  "smlad %[" a "], %[xe], %[t], %[" a "]\n\t"    \
  "sxtb16 %[w0], %[w0], ror #8\n\t"             \
  "smlad %[" a "], %[xo], %[w0], %[" a "]\n\t"   \
  "sxtb16 %[t], %[w1]\n\t"                      \
  "smlad %[" b "], %[xe], %[t], %[" b "]\n\t"    \
  "sxtb16 %[w1], %[w1], ror #8\n\t"             \
  "smlad %[" b "], %[xo], %[w1], %[" b "]\n\t"

#define FCI_STEP_ASM               \
  "ldr %[t], [%[x]], #4\n\t"       \
  "sxtb16 %[xe], %[t]\n\t"         \
  "sxtb16 %[xo], %[t], ror #8\n\t" \
  FCI_PAIR_ASM("a0", "a1") FCI_PAIR_ASM("a2", "a3")

/* dot_rows4 for a block of four rows in fcw_interleave's order starting at w. */
static void dot_rows4_interleaved(const int8_t *x, const int8_t *w, int32_t depth, int32_t *acc) {
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, i;
  int32_t words = depth >> 2;
  const int32_t rem = depth & 3;
#if TINYFLOW_M4_ASM
  int32_t xe, xo, w0, w1, t;
  if (words & 1) {
    __asm__ volatile(FCI_STEP_ASM
                     : [x] "+r"(x), [w] "+r"(w), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
                       [xe] "=&r"(xe), [xo] "=&r"(xo), [w0] "=&r"(w0), [w1] "=&r"(w1), [t] "=&r"(t)
                     :
                     : "memory");
  }
  words >>= 1;
  if (words > 0) {
    __asm__ volatile("1:\n\t" FCI_STEP_ASM FCI_STEP_ASM
                     "subs %[n], %[n], #1\n\t"
                     "bne 1b\n\t"
                     : [x] "+r"(x), [w] "+r"(w), [n] "+r"(words), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2),
                       [a3] "+r"(a3), [xe] "=&r"(xe), [xo] "=&r"(xo), [w0] "=&r"(w0), [w1] "=&r"(w1), [t] "=&r"(t)
                     :
                     : "cc", "memory");
  }
#else
  for (; words > 0; --words, x += 4, w += 16) {
    const int32_t xv = tinyflow_m4_load4(x);
    const int32_t xe = __sxtb16(xv), xo = tinyflow_m4_sxtb16_ror8(xv);
    int32_t wv = tinyflow_m4_load4(w);
    a0 = __smlad(xo, tinyflow_m4_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), a0));
    wv = tinyflow_m4_load4(w + 4);
    a1 = __smlad(xo, tinyflow_m4_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), a1));
    wv = tinyflow_m4_load4(w + 8);
    a2 = __smlad(xo, tinyflow_m4_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), a2));
    wv = tinyflow_m4_load4(w + 12);
    a3 = __smlad(xo, tinyflow_m4_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), a3));
  }
#endif
  /* x and w now point at the depth's last 1-3 inputs and the rows' last weights, rem per row. */
  for (i = 0; i < rem; ++i) {
    a0 += x[i] * w[i];
    a1 += x[i] * w[rem + i];
    a2 += x[i] * w[2 * rem + i];
    a3 += x[i] * w[3 * rem + i];
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

/* The compiler's widened weights (tinyflow/compile/ops/fully_connected.py fcw_table): per block
 * of four rows and four inputs, per row the int16 pairs (w0, w2), (w1, w3), so one LDRD feeds two
 * SMLADs with no widening: 15 instructions per 16 multiply-accumulates instead of 24. */
#define FCW_MAGIC 0x34574346 /* "FCW4" */

#define FCW_ROW_ASM(a)                   \
  "ldrd %[we], %[wo], [%[w]], #8\n\t"     \
  "smlad %[" a "], %[xe], %[we], %[" a "]\n\t" \
  "smlad %[" a "], %[xo], %[wo], %[" a "]\n\t"

#define FCW_STEP_ASM                  \
  "ldr %[xo], [%[x]], #4\n\t"          \
  "sxtb16 %[xe], %[xo]\n\t"            \
  "sxtb16 %[xo], %[xo], ror #8\n\t"    \
  FCW_ROW_ASM("a0") FCW_ROW_ASM("a1") FCW_ROW_ASM("a2") FCW_ROW_ASM("a3")

#define FCQ_MAGIC 0x34514346 /* "FCQ4": the head carries the flags only, no table follows */
#define FC_FLAG_FAST 1u       /* tinyflow_m4_fast_ok holds for every channel */
#define FC_FLAG_RIGHT_ONLY 2u /* tinyflow_m4_right_only holds for every channel */
#define FC_FLAG_INTERLEAVED 4u /* the int8 weights are in fcw_interleave's order */

/* The compiler's head after the folded bias (tinyflow/compile/ops/fully_connected.py _dsp_bias):
 * magic, a check word for this shape and the requantization flags, then the table for FCW_MAGIC.
 * Returns the table (or 0); *known = 1 and *flags set when the head is the compiler's, else
 * *known = 0 and the caller scans the channels as it did before the flags existed. */
static const int32_t *fc_head(const tinyflow_fc_params_t *p, const int32_t *folded_bias, uint32_t *flags, int *known) {
  *known = 0;
  if (folded_bias == 0) return 0;
  const int32_t *tail = folded_bias + p->output_depth;
  const uint32_t magic = (uint32_t)tail[0];
  if ((magic != FCW_MAGIC && magic != FCQ_MAGIC) || tail[1] != ((p->output_depth << 16) ^ p->accum_depth)) return 0;
  *known = 1;
  *flags = (uint32_t)tail[2];
  return magic == FCW_MAGIC ? tail + 3 : 0;
}

/* dot_rows4 with the widened words tw of rows w..w+3 (w: their int8 weights, for the depth's
 * remainder). */
static void dot_rows4_table(const int8_t *x, const int32_t *tw, const int8_t *w, int32_t depth, int32_t *acc) {
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, i;
  int32_t words = depth >> 2;
  const int8_t *xr = x + (words << 2);
#if TINYFLOW_M4_ASM
  int32_t xe, xo, we, wo;
  if (words & 1) {
    __asm__ volatile(FCW_STEP_ASM
                     : [x] "+r"(x), [w] "+r"(tw), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
                       [xe] "=&r"(xe), [xo] "=&r"(xo), [we] "=&r"(we), [wo] "=&r"(wo)
                     :
                     : "memory");
  }
  words >>= 1;
  if (words > 0) {
    __asm__ volatile("1:\n\t" FCW_STEP_ASM FCW_STEP_ASM
                     "subs %[n], %[n], #1\n\t"
                     "bne 1b\n\t"
                     : [x] "+r"(x), [w] "+r"(tw), [n] "+r"(words), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2),
                       [a3] "+r"(a3), [xe] "=&r"(xe), [xo] "=&r"(xo), [we] "=&r"(we), [wo] "=&r"(wo)
                     :
                     : "cc", "memory");
  }
#else
  for (; words > 0; --words, x += 4, tw += 8) {
    const int32_t xv = tinyflow_m4_load4(x);
    const int32_t xe = __sxtb16(xv), xo = tinyflow_m4_sxtb16_ror8(xv);
    a0 = __smlad(xo, tw[1], __smlad(xe, tw[0], a0));
    a1 = __smlad(xo, tw[3], __smlad(xe, tw[2], a1));
    a2 = __smlad(xo, tw[5], __smlad(xe, tw[4], a2));
    a3 = __smlad(xo, tw[7], __smlad(xe, tw[6], a3));
  }
#endif
  const int8_t *wr = w + (depth & ~3);
  for (i = 0; i < (depth & 3); ++i) {
    a0 += xr[i] * wr[i];
    a1 += xr[i] * wr[depth + i];
    a2 += xr[i] * wr[2 * depth + i];
    a3 += xr[i] * wr[3 * depth + i];
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

static int32_t dot_row(const int8_t *x, const int8_t *w, int32_t depth) {
  int32_t a = 0, i = 0;
  for (; i + 4 <= depth; i += 4) {
    const int32_t xv = tinyflow_m4_load4(x + i), wv = tinyflow_m4_load4(w + i);
    a = __smlad(__sxtb16(xv), __sxtb16(wv), a);
    a = __smlad(tinyflow_m4_sxtb16_ror8(xv), tinyflow_m4_sxtb16_ror8(wv), a);
  }
  for (; i < depth; ++i) a += x[i] * w[i];
  return a;
}

#define FC_ALWAYS_INLINE static inline __attribute__((always_inline))

/* Four rows' outputs with the fast requantization (requant_fast.h), stored as one word; 0 (nothing
 * stored) when an accumulator is too large for it. Written out per row (not as loops over arrays)
 * so the accumulators, bias and channel parameters stay in registers: the epilogue was ~150
 * instructions per four rows through the stack. */
FC_ALWAYS_INLINE int store_rows4_fast(const int32_t *acc, const int32_t *bias, const int32_t *mult,
                                      const int32_t *shift, int32_t c, uint32_t lo4, uint32_t hi4, int8_t *out) {
  int32_t d0 = (int32_t)((uint32_t)acc[0] + (uint32_t)bias[0]), d1 = (int32_t)((uint32_t)acc[1] + (uint32_t)bias[1]);
  int32_t d2 = (int32_t)((uint32_t)acc[2] + (uint32_t)bias[2]), d3 = (int32_t)((uint32_t)acc[3] + (uint32_t)bias[3]);
  if (tinyflow_m4_double4_regs(&d0, &d1, &d2, &d3)) return 0;
  const int32_t y0 = tinyflow_m4_fast_requant(d0, mult[0], tinyflow_m4_fast_e1(shift[0]), c);
  const int32_t y1 = tinyflow_m4_fast_requant(d1, mult[1], tinyflow_m4_fast_e1(shift[1]), c);
  const int32_t y2 = tinyflow_m4_fast_requant(d2, mult[2], tinyflow_m4_fast_e1(shift[2]), c);
  const int32_t y3 = tinyflow_m4_fast_requant(d3, mult[3], tinyflow_m4_fast_e1(shift[3]), c);
  const uint32_t v = tinyflow_m4_clamp4(tinyflow_m4_pack4(y0, y1, y2, y3), lo4, hi4);
  memcpy(out, &v, 4); /* one STR: the Cortex-M4 stores words at any alignment */
  return 1;
}

int tinyflow_fully_connected_s8(const tinyflow_fc_params_t *p, const int32_t *multiplier, const int32_t *shift,
                                const int8_t *input, const int8_t *filter, const int32_t *folded_bias,
                                int8_t *output) {
  const int32_t depth = p->accum_depth, n_out = p->output_depth;
  if (p->batches < 1 || depth < 1 || n_out < 1 || p->act_min > p->act_max) return TINYFLOW_KERNEL_EINVAL;
  uint32_t flags = 0;
  int known;
  const int32_t *table = fc_head(p, folded_bias, &flags, &known);
  if (!known) { /* The fast path's channels also qualify for the right-shift-only one: one scan, not two. */
    flags = tinyflow_m4_fast_ok(multiplier, shift, n_out) ? FC_FLAG_FAST | FC_FLAG_RIGHT_ONLY : 0u;
    if (flags == 0 && tinyflow_m4_right_only(multiplier, shift, n_out)) flags = FC_FLAG_RIGHT_ONLY;
  }
  const int fast = (flags & FC_FLAG_FAST) != 0, right_only = (flags & FC_FLAG_RIGHT_ONLY) != 0;
  const int interleaved = (flags & FC_FLAG_INTERLEAVED) != 0;
  const int32_t c = 1 + 2 * p->output_offset;
  const uint32_t lo4 = tinyflow_m4_bytes4(p->act_min), hi4 = tinyflow_m4_bytes4(p->act_max);
  const int32_t block_words = 2 * (depth & ~3); /* 8 words per 4 rows and 4 inputs */
  const int32_t n_full = n_out & ~3;
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *x = input + b * depth;
    int8_t *out = output + b * n_out;
    /* Blocks of four rows walk their pointers forward (no index arithmetic per block). */
    const int32_t *tw = table, *bias = folded_bias, *mult = multiplier, *sh = shift;
    const int8_t *w = filter;
    int8_t *y = out;
    for (int32_t o = 0; o < n_full; o += 4, w += 4 * depth, bias += 4, mult += 4, sh += 4, y += 4) {
      int32_t acc[4];
      if (tw != 0) {
        dot_rows4_table(x, tw, w, depth, acc);
        tw += block_words;
      } else if (interleaved) {
        dot_rows4_interleaved(x, w, depth, acc);
      } else {
        dot_rows4(x, w, depth, acc);
      }
      if (fast && store_rows4_fast(acc, bias, mult, sh, c, lo4, hi4, y)) continue;
      for (int32_t k = 0; k < 4; ++k) {
        const int32_t a = (int32_t)((uint32_t)acc[k] + (uint32_t)bias[k]);
        y[k] = tinyflow_m4_requant(right_only, a, mult[k], sh[k], p->output_offset, p->act_min, p->act_max);
      }
    }
    for (int32_t o = n_full; o < n_out; ++o) { /* rows past the last block of four */
      const int32_t a = (int32_t)((uint32_t)dot_row(x, filter + o * depth, depth) + (uint32_t)folded_bias[o]);
      out[o] = tinyflow_m4_requant(right_only, a, multiplier[o], shift[o], p->output_offset, p->act_min, p->act_max);
    }
  }
  return TINYFLOW_KERNEL_OK;
}
