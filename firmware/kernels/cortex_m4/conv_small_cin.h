/* CONV_2D kxk on 1 to 4 input channels (the first layer of vision and audio models), for
 * firmware/kernels/cortex_m4/conv_2d.c (included there after gathered[] and pointwise.h; static
 * functions only). A window is 4 to SC_MAX_K int8 values: gathering and widening it used to cost
 * more than its multiply-accumulates, and with few output channels the requantization weighed as
 * much again. Here:
 * - the compiler lays the filter out once (tinyflow/compile/ops/conv_small.py sc_table): per pair
 *   of output channels, the doubled bias, the weights doubled and widened to int16 pairs in the
 *   order the window is widened (sc_slots there), then the requantization constants. The
 *   generated code appends it to the bias on DSP builds (SCT_MAGIC);
 * - a window is widened a filter row at a time straight from the input (x + input_offset in
 *   16-bit lanes, SXTAB16): each whole word of a row gives two pairs, and the last 1-3 bytes of
 *   two rows share pairs (PKHBT), so a 3x3x3 window is 14 pairs, not 3 x 6. Edge windows are
 *   first gathered by sc_gather_edge (outside taps hold the zero point: x + input_offset = 0).
 *   That part is conv_small_window.h;
 * - three pixels x two channels run through an unrolled sequence entered at the step that leaves
 *   the window's (17 instructions per 24 multiply-accumulates: each weight pair is loaded once
 *   for three pixels; no loop counter), then SMMLAR, ASR, SSAT per output on the doubled
 *   accumulators (dw_block.h's requantization; the compiler checks its conditions per layer, else
 *   no table and the general paths run). */
#ifndef TINYFLOW_KERNELS_CORTEX_M4_CONV_SMALL_CIN_H
#define TINYFLOW_KERNELS_CORTEX_M4_CONV_SMALL_CIN_H

#include "pointwise.h"
#include "requant_fast.h"
#include "simd.h"

#define SCT_MAGIC 0x34544353 /* "SCT4" */
/* Longest window: gathered[] holds it plus the 3 bytes a row's last word reads past it. */
#define SC_MAX_K 252
/* Pixels computed together, and the words a step (two pairs of each) takes in pairs_widened[]. */
#define SC_PIXELS 3
#define SC_XSTEP (2 * SC_PIXELS)
/* Most steps in pairs_widened[]. */
#define SC_MAX_STEPS 48
#if SC_MAX_K + 3 > GATHER_BYTES || SC_XSTEP * SC_MAX_STEPS > PAIRS_MAX_K
#error "conv_small_cin.h needs gathered[] and pairs_widened[] to hold its windows"
#endif
/* Words of a channel pair's block besides its weights: the 2 doubled biases three times (one per
 * pixel) before them, then (multiplier, rounding term) of both channels and their exponents. */
#define SC_HEAD 6
#define SC_TAIL 6

/* Steps of a window (conv_small.py sc_slots): two pairs per whole word of each filter row, then
 * the rows' last r bytes: r = 1 or 2 take r pairs per two rows, r = 3 three; a last odd row 1 or 2. */
static int32_t sc_steps(const tinyflow_conv_params_t *p) {
  const int32_t row = p->filter_w * p->input_c, q = row >> 2, r = row & 3, fh = p->filter_h;
  const int32_t tails = r == 0 ? 0 : (fh >> 1) * r + (fh & 1) * (r == 1 ? 1 : 2);
  return (2 * q * fh + tails + 1) >> 1;
}

/* The layers the compiler appends a tail to (conv_small.py small_cin_layer tests the same). */
static int sc_layer(const tinyflow_conv_params_t *p) {
  return p->filter_c == p->input_c && p->input_c >= 1 && p->input_c <= 4 && p->filter_h * p->filter_w >= 2 &&
         p->dilation_h == 1 && p->dilation_w == 1 && p->filter_h * p->filter_w * p->input_c <= SC_MAX_K &&
         sc_steps(p) <= SC_MAX_STEPS;
}

/* The channel-pair table after bias[output_c], or 0 (no table: the general paths). */
static const int32_t *sc_table(const tinyflow_conv_params_t *p, const int32_t *bias) {
  if (bias == 0 || !sc_layer(p)) return 0;
  const int32_t *tail = bias + p->output_c;
  const int32_t check = (p->output_c << 16) ^ (p->filter_h << 9) ^ (p->filter_w << 2) ^ (p->input_c - 1);
  if (tail[0] != (int32_t)SCT_MAGIC || tail[1] != check) return 0;
  return tail + 2;
}

#include "conv_small_window.h"

/* One step of three pixels x two channels: a channel pair's 4 weight words (ch0 even, odd, ch1
 * even, odd), then each pixel's two pairs at offsets a, b, c from x (the end of the windows). */
#define SC_STEP_ASM(a, b, c)                      \
  "ldrd %[we0], %[wo0], [%[w]], #8\n\t"           \
  "ldrd %[we1], %[wo1], [%[w]], #8\n\t"           \
  "ldrd %[x0], %[x1], [%[x], #" a "]\n\t"         \
  "smlad %[a00], %[x0], %[we0], %[a00]\n\t"       \
  "smlad %[a00], %[x1], %[wo0], %[a00]\n\t"       \
  "smlad %[a01], %[x0], %[we1], %[a01]\n\t"       \
  "smlad %[a01], %[x1], %[wo1], %[a01]\n\t"       \
  "ldrd %[x0], %[x1], [%[x], #" b "]\n\t"         \
  "smlad %[a10], %[x0], %[we0], %[a10]\n\t"       \
  "smlad %[a10], %[x1], %[wo0], %[a10]\n\t"       \
  "smlad %[a11], %[x0], %[we1], %[a11]\n\t"       \
  "smlad %[a11], %[x1], %[wo1], %[a11]\n\t"       \
  "ldrd %[x0], %[x1], [%[x], #" c "]\n\t"         \
  "smlad %[a20], %[x0], %[we0], %[a20]\n\t"       \
  "smlad %[a20], %[x1], %[wo0], %[a20]\n\t"       \
  "smlad %[a21], %[x0], %[we1], %[a21]\n\t"       \
  "smlad %[a21], %[x1], %[wo1], %[a21]\n\t"
/* Windows of up to SC_UNROLL steps enter the sequence at the step that leaves them to run (each
 * step is 17 four-byte instructions); step j reads 24 (20 - j) bytes before the windows' end. */
#define SC_UNROLL 20
#define SC_STEP_BYTES 68
#define SC_STEPS_ASM \
  SC_STEP_ASM("-480", "-472", "-464") \
  SC_STEP_ASM("-456", "-448", "-440") \
  SC_STEP_ASM("-432", "-424", "-416") \
  SC_STEP_ASM("-408", "-400", "-392") \
  SC_STEP_ASM("-384", "-376", "-368") \
  SC_STEP_ASM("-360", "-352", "-344") \
  SC_STEP_ASM("-336", "-328", "-320") \
  SC_STEP_ASM("-312", "-304", "-296") \
  SC_STEP_ASM("-288", "-280", "-272") \
  SC_STEP_ASM("-264", "-256", "-248") \
  SC_STEP_ASM("-240", "-232", "-224") \
  SC_STEP_ASM("-216", "-208", "-200") \
  SC_STEP_ASM("-192", "-184", "-176") \
  SC_STEP_ASM("-168", "-160", "-152") \
  SC_STEP_ASM("-144", "-136", "-128") \
  SC_STEP_ASM("-120", "-112", "-104") \
  SC_STEP_ASM("-96", "-88", "-80") \
  SC_STEP_ASM("-72", "-64", "-56") \
  SC_STEP_ASM("-48", "-40", "-32") \
  SC_STEP_ASM("-24", "-16", "-8")

/* Every channel pair of three pixels in assembly, a block each: the biases, the steps, the
 * requantization (`requant`), the clamp (`clamp`) and three halfword stores; w moves from block
 * to block, the output pointers (in memory) by two bytes. The entry is computed once. */
#define SC_RUN_ASM(requant, clamp)                \
  "ldr %[x], %[xend]\n\t"                         \
  "adr.w %[x0], 2f\n\t"                           \
  "ldr %[x1], %[skip]\n\t"                        \
  "sub %[x0], %[x0], %[x1]\n\t"                   \
  "orr %[x0], %[x0], #1\n\t"                      \
  "str %[x0], %[entry]\n\t"                       \
  "1:\n\t"                                        \
  "ldrd %[a00], %[a01], [%[w]], #8\n\t"           \
  "ldrd %[a10], %[a11], [%[w]], #8\n\t"           \
  "ldrd %[a20], %[a21], [%[w]], #8\n\t"           \
  "ldr pc, %[entry]\n\t" SC_STEPS_ASM             \
  "2:\n\t"                                        \
  "ldrd %[we0], %[wo0], [%[w]], #8\n\t"           \
  "ldrd %[we1], %[wo1], [%[w]], #8\n\t" requant   \
  "ldrd %[we0], %[wo0], [%[w]], #8\n\t"           \
  "asr %[a00], %[a00], %[we0]\n\t"                \
  "asr %[a10], %[a10], %[we0]\n\t"                \
  "asr %[a20], %[a20], %[we0]\n\t"                \
  "asr %[a01], %[a01], %[wo0]\n\t"                \
  "asr %[a11], %[a11], %[wo0]\n\t"                \
  "asr %[a21], %[a21], %[wo0]\n\t"                \
  "ssat %[a00], #8, %[a00]\n\t"                   \
  "ssat %[a01], #8, %[a01]\n\t"                   \
  "ssat %[a10], #8, %[a10]\n\t"                   \
  "ssat %[a11], #8, %[a11]\n\t"                   \
  "ssat %[a20], #8, %[a20]\n\t"                   \
  "ssat %[a21], #8, %[a21]\n\t"                   \
  "bfi %[a00], %[a01], #8, #8\n\t"                \
  "bfi %[a10], %[a11], #8, #8\n\t"                \
  "bfi %[a20], %[a21], #8, #8\n\t" clamp          \
  "ldrd %[x0], %[x1], %[oab]\n\t"                 \
  "ldr %[we0], %[oc]\n\t"                         \
  "strh %[a00], [%[x0]], #2\n\t"                  \
  "strh %[a10], [%[x1]], #2\n\t"                  \
  "strh %[a20], [%[we0]], #2\n\t"                 \
  "strd %[x0], %[x1], %[oab]\n\t"                 \
  "str %[we0], %[oc]\n\t"                         \
  "ldr %[x0], %[end]\n\t"                         \
  "cmp %[w], %[x0]\n\t"                           \
  "bne 1b\n\t"
/* SMMLAR, in place when the sign term is not needed (see sc_run). */
#define SC_REQUANT_LEAN_ASM                      \
  "smmlar %[a00], %[a00], %[we0], %[wo0]\n\t"    \
  "smmlar %[a10], %[a10], %[we0], %[wo0]\n\t"    \
  "smmlar %[a20], %[a20], %[we0], %[wo0]\n\t"    \
  "smmlar %[a01], %[a01], %[we1], %[wo1]\n\t"    \
  "smmlar %[a11], %[a11], %[we1], %[wo1]\n\t"    \
  "smmlar %[a21], %[a21], %[we1], %[wo1]\n\t"
/* SMMLAR plus dw_block.h's sign term (acc < 0: minus 1). */
#define SC_REQUANT_SIGN_ASM                      \
  "smmlar %[x0], %[a00], %[we0], %[wo0]\n\t"     \
  "add %[a00], %[x0], %[a00], asr #31\n\t"       \
  "smmlar %[x0], %[a10], %[we0], %[wo0]\n\t"     \
  "add %[a10], %[x0], %[a10], asr #31\n\t"       \
  "smmlar %[x0], %[a20], %[we0], %[wo0]\n\t"     \
  "add %[a20], %[x0], %[a20], asr #31\n\t"       \
  "smmlar %[x0], %[a01], %[we1], %[wo1]\n\t"     \
  "add %[a01], %[x0], %[a01], asr #31\n\t"       \
  "smmlar %[x0], %[a11], %[we1], %[wo1]\n\t"     \
  "add %[a11], %[x0], %[a11], asr #31\n\t"       \
  "smmlar %[x0], %[a21], %[we1], %[wo1]\n\t"     \
  "add %[a21], %[x0], %[a21], asr #31\n\t"
/* Each pixel's two int8 outputs clamped to the activation range (requant_fast.h
 * tinyflow_m4_clamp4 on the low halfword; the upper one is not stored). */
#define SC_CLAMP1_ASM(v)                         \
  "ssub8 %[x0], " v ", %[we0]\n\t"               \
  "sel " v ", " v ", %[we0]\n\t"                 \
  "ssub8 %[x0], %[wo0], " v "\n\t"               \
  "sel " v ", " v ", %[wo0]\n\t"
#define SC_CLAMP_ASM                                                                               \
  "ldrd %[we0], %[wo0], %[lohi]\n\t" SC_CLAMP1_ASM("%[a00]") SC_CLAMP1_ASM("%[a10]") SC_CLAMP1_ASM("%[a20]")

/* What the assembly keeps in memory: a local of conv_small_cin, so that its operands are
 * addressed from sp (the assembly needs every other register). */
typedef struct {
  int8_t *out[2];     /* the first two pixels' next outputs (one LDRD) */
  int8_t *out_c;      /* the third's */
  uint32_t lohi[2];   /* the activation range in four bytes: low, high (one LDRD) */
  const int32_t *end;     /* past the assembly's last block */
  int32_t skip;           /* SC_STEP_BYTES * steps */
  int32_t entry;          /* the address the steps are entered at */
  const int32_t *xend;    /* pairs_widened + SC_XSTEP * steps */
} sc_consts_t;

#define SC_RUN_OPERANDS                                                                                  \
  : [w] "+r"(w), [x] "=&r"(x), [a00] "=&r"(a00), [a01] "=&r"(a01), [a10] "=&r"(a10), [a11] "=&r"(a11),    \
    [a20] "=&r"(a20), [a21] "=&r"(a21), [x0] "=&r"(x0), [x1] "=&r"(x1), [we0] "=&r"(we0), [wo0] "=&r"(wo0), \
    [we1] "=&r"(we1), [wo1] "=&r"(wo1), [oab] "+m"(c->out), [oc] "+m"(c->out_c),                                \
    [entry] "=m"(c->entry)                                                                               \
  : [skip] "m"(c->skip), [end] "m"(c->end), [lohi] "m"(c->lohi),                                                \
    [xend] "m"(c->xend)                                                                                  \
  : "cc", "memory"

/* The channel pairs of three pixels up to c->end (steps <= SC_UNROLL). lean: output zero point
 * and activation range -128 and [-128, 127] (ReLU's usual quantization). Then the clamp goes
 * (SSAT does it) and so does the sign term: a negative accumulator's output is at most the zero
 * point with or without it, and that is the lowest output. */
__attribute__((always_inline)) static inline void sc_run(sc_consts_t *c, const int32_t *w, int lean) {
#if TINYFLOW_M4_ASM
  int32_t x, a00, a01, a10, a11, a20, a21, x0, x1, we0, wo0, we1, wo1;
  if (lean) {
    __asm__ volatile(SC_RUN_ASM(SC_REQUANT_LEAN_ASM, "") SC_RUN_OPERANDS);
  } else {
    __asm__ volatile(SC_RUN_ASM(SC_REQUANT_SIGN_ASM, SC_CLAMP_ASM) SC_RUN_OPERANDS);
  }
#else
  (void)c, (void)w, (void)lean;
#endif
}

/* acc[k] (pixel k / 2, channel k % 2) += the pixels' windows times a channel pair's weights w. */
static void sc_dot(const int32_t *w, int32_t steps, int32_t *acc) {
  const int32_t *x = pairs_widened;
  for (; steps > 0; --steps, x += SC_XSTEP, w += 4) {
    for (int32_t k = 0; k < SC_PIXELS; ++k) {
      acc[2 * k] = __smlad(x[2 * k + 1], w[1], __smlad(x[2 * k], w[0], acc[2 * k]));
      acc[2 * k + 1] = __smlad(x[2 * k + 1], w[3], __smlad(x[2 * k], w[2], acc[2 * k + 1]));
    }
  }
}

/* SMMLAR: round + (a * b + 2^31) / 2^32, high word (no ACLE name). */
static inline int32_t sc_smmlar(int32_t a, int32_t b, int32_t round) {
  int32_t r;
  __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(round));
  return r;
}

/* One output from a doubled accumulator: dw_block.h dwb_requant (proof there), saturated to int8. */
static inline int32_t sc_requant(int32_t acc2, int32_t m, int32_t round, int32_t e) {
  return __ssat((sc_smmlar(acc2, m, round) + (acc2 >> 31)) >> e, 8);
}

/* Channels [oc, oc_n) of the pixels in C (long windows, an odd last channel, unoptimised builds). */
static void sc_channels(const int32_t *w, int32_t steps, int32_t oc, int32_t oc_n, const tinyflow_conv_params_t *p,
                        int8_t *const *out) {
  for (; oc < oc_n; oc += 2, w += SC_HEAD + 4 * steps + SC_TAIL) {
    int32_t acc[2 * SC_PIXELS];
    for (int32_t k = 0; k < 2 * SC_PIXELS; ++k) acc[k] = w[k];
    sc_dot(w + SC_HEAD, steps, acc);
    const int32_t *t = w + SC_HEAD + 4 * steps;
    for (int32_t k = 0; k < 2 * SC_PIXELS; ++k) {
      const int32_t ch = k % 2, v = sc_requant(acc[k], t[2 * ch], t[2 * ch + 1], t[4 + ch]);
      if (oc + ch < oc_n) out[k / 2][oc + ch] = (int8_t)(v < p->act_min ? p->act_min : (v > p->act_max ? p->act_max : v));
    }
  }
}

/* The next output pixel's window origin (raster order). */
typedef struct {
  int32_t iy0, ix0, ox;
} sc_pos_t;

static inline void sc_next(const tinyflow_conv_params_t *p, sc_pos_t *q) {
  q->ix0 += p->stride_w;
  if (++q->ox == p->output_w) q->ox = 0, q->ix0 = -p->pad_w, q->iy0 += p->stride_h;
}

/* The windows of the next n (1 to SC_PIXELS) pixels into their slots; the last is repeated in the
 * slots past n. q moves on past them. */
__attribute__((noinline)) static void sc_windows(const sc_geom_t *g, const int8_t *in_b, sc_pos_t *q, int32_t n) {
  const tinyflow_conv_params_t *p = g->p;
  const int32_t step = p->stride_w * p->input_c;
  if (g->rgb3x3 && n == SC_PIXELS && q->ox + SC_PIXELS <= p->output_w && q->iy0 >= 0 && q->iy0 < g->iy_max &&
      q->ix0 >= 0 && q->ix0 + (SC_PIXELS - 1) * p->stride_w <= g->ix_max) {
    /* Three inside windows of one row (most of them): no checks per window. */
    const int8_t *src = in_b + q->iy0 * g->in_row + q->ix0 * p->input_c;
    sc_widen_3x9(src, g->in_row, g->off2, pairs_widened);
    sc_widen_3x9(src + step, g->in_row, g->off2, pairs_widened + 2);
    sc_widen_3x9(src + 2 * step, g->in_row, g->off2, pairs_widened + 4);
    q->ox += SC_PIXELS, q->ix0 += SC_PIXELS * p->stride_w;
    if (q->ox == p->output_w) q->ox = 0, q->ix0 = -p->pad_w, q->iy0 += p->stride_h;
    return;
  }
  for (int32_t k = 0; k < SC_PIXELS; ++k) {
    sc_window(g, in_b, q->iy0, q->ix0, pairs_widened + 2 * k);
    if (k + 1 < n) sc_next(g->p, q);
  }
  sc_next(g->p, q);
}

/* Pixels in threes (raster order, across rows); the last one or two repeat the last pixel. */
static void conv_small_cin(const tinyflow_conv_params_t *p, const int32_t *table, const int8_t *input,
                           int8_t *output) {
  const sc_geom_t g = sc_geom(p);
  const int32_t oc_n = p->output_c, pixels = p->output_h * p->output_w, in_n = p->input_h * p->input_w * p->input_c;
  const int lean = p->output_offset == -128 && p->act_min == -128 && p->act_max == 127;
  /* Channel pairs the assembly takes: all whole pairs of windows it unrolls. */
  const int32_t asm_pairs = TINYFLOW_M4_ASM && g.steps <= SC_UNROLL ? oc_n >> 1 : 0;
  const int32_t *rest = table + asm_pairs * (SC_HEAD + 4 * g.steps + SC_TAIL);
  sc_consts_t c = {{0, 0}, 0, {tinyflow_m4_bytes4(p->act_min), tinyflow_m4_bytes4(p->act_max)}, rest,
                   SC_STEP_BYTES * g.steps, 0, pairs_widened + SC_XSTEP * g.steps};
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *in_b = input + b * in_n;
    int8_t *out = output + b * pixels * oc_n;
    sc_pos_t q = {-p->pad_h, -p->pad_w, 0};
    for (int32_t i = 0; i < pixels; i += SC_PIXELS) {
      const int32_t n = pixels - i < SC_PIXELS ? pixels - i : SC_PIXELS;
      int8_t *outs[SC_PIXELS];
      for (int32_t k = 0; k < SC_PIXELS; ++k) outs[k] = out + (k < n ? k : n - 1) * oc_n;
      sc_windows(&g, in_b, &q, n);
      if (asm_pairs > 0) {
        c.out[0] = outs[0], c.out[1] = outs[1], c.out_c = outs[2];
        sc_run(&c, table, lean);
      }
      if (2 * asm_pairs < oc_n) sc_channels(rest, g.steps, 2 * asm_pairs, oc_n, p, outs);
      out += n * oc_n;
    }
  }
}

#endif /* TINYFLOW_KERNELS_CORTEX_M4_CONV_SMALL_CIN_H */
