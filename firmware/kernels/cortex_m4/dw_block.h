/* DEPTHWISE_CONV_2D for Cortex-M4: the table the compiler makes: no dilation, a multiple of 4
 * channels, depth multiplier 1 or a multiple of 4 (every corpus layer); 3x3 filters with depth
 * multiplier 1 take the hand-scheduled path. The generated
 * code passes, on DSP builds only, the bias followed by a tail (tinyflow/compile/ops/conv.py
 * _dsp_bias): DWB_MAGIC, a check word and one dwb_block_t per four channels, or two zeros. So a
 * pixel's 36 MACs of a block cost 9 taps x 8 instructions (one LDRD of pre-widened, doubled weight
 * pairs per tap, the input offset folded into the bias of interior windows) and its four outputs a
 * few instructions each (SMMLAR, ADD, ASR: see dwb_requant), with nothing prepared at run time.
 * Pixels are computed in raster order, all channels of one before the next, as the planner's
 * overlap of input and output assumes (Lowered.overlap). Only depthwise_conv_2d.c includes this. */
#ifndef TINYFLOW_KERNELS_CORTEX_M4_DW_BLOCK_H
#define TINYFLOW_KERNELS_CORTEX_M4_DW_BLOCK_H

#include "simd.h"
#include "tinyflow/kernels/depthwise_conv_2d.h"

#define DWB_MAGIC 0x34425744 /* "DWB4" */

/* Channels c..c+3 of a layer; the asm addresses the fields by fixed offsets. Blocks follow each
 * other every 20 + 2 * filter_h * filter_w words (dwb_next). */
typedef struct {
  int32_t ib[4];    /* interior bias: 2 * bias + 2 * input_offset * sum of the taps; bytes 0..15 */
  int32_t bias2[4]; /* 2 * bias: clipped windows add the input offset per tap */
  int32_t mr[8];    /* per channel: multiplier, rounding term 2^(e-1) + output_offset * 2^e (one LDRD) */
  int32_t exp[4];   /* e = -shift */
  int32_t w[];      /* per tap: doubled int16 weights (c, c+2), (c+1, c+3); from byte 80 */
} dwb_block_t;

static inline const dwb_block_t *dwb_next(const dwb_block_t *blk, int32_t words) {
  return (const dwb_block_t *)(const void *)((const int32_t *)(const void *)blk + words);
}

/* The table after bias[output_c], or NULL (then the caller takes the general paths). */
static const dwb_block_t *dwb_table(const tinyflow_dwconv_params_t *p, const int32_t *bias) {
  const int32_t dm = p->depth_multiplier;
  if (bias == 0 || (dm != 1 && dm % 4 != 0) || p->output_c % 4 != 0 || p->dilation_h != 1 || p->dilation_w != 1) return 0;
  const int32_t *tail = bias + p->output_c;
  const int32_t check = (dm << 20) ^ (p->output_c << 8) ^ (p->filter_h << 4) ^ p->filter_w;
  if (tail[0] != DWB_MAGIC || tail[1] != check) return 0;
  return (const dwb_block_t *)(const void *)(tail + 2);
}

/* SMMLAR: (round << 32) + a * b + 2^31, high word: round + a * b / 2^32 rounded (no ACLE name). */
static inline int32_t dwb_smmlar(int32_t a, int32_t b, int32_t round) {
  int32_t r;
  __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(round));
  return r;
}

/* acc2 = 2 * accumulator. SMMLAR(acc2, m, round) = SaturatingRoundingDoublingHighMul(acc, m)
 * + round (exact: acc * m + 2^30 floor-divided by 2^31; it cannot saturate, m is never
 * INT32_MIN). With round = 2^(e-1) + output_offset * 2^e and s = 1 for a negative accumulator,
 * (x + round - s) >> e = RoundingDivideByPOT(x, e) + output_offset: TFLM rounds half up for
 * x >= 0 and half down for x < 0, i.e. floor((x + 2^(e-1) - [x < 0]) / 2^e); x < 0 only if
 * acc < 0, and when acc < 0 but x = 0 both forms give 0 because e >= 1. The compiler makes the
 * table only when e is in [1, 30] and nothing overflows (conv.py _dwb_blocks). */
static inline int32_t dwb_requant(int32_t acc2, int32_t m, int32_t round, int32_t e) {
  return (dwb_smmlar(acc2, m, round) + (acc2 >> 31)) >> e;
}

/* Output k of a block from its doubled accumulator: SSAT alone when the activation range is all
 * of int8 (full is a constant in each caller's copy). */
#define DWB_OUT(q, k, acc, lo, hi, full, out)                                                \
  do {                                                                                       \
    int32_t v_ = __ssat(dwb_requant((acc), (q)->mr[2 * (k)], (q)->mr[2 * (k) + 1], (q)->exp[k]), 8); \
    if (!(full)) v_ = v_ < (lo) ? (lo) : (v_ > (hi) ? (hi) : v_);                             \
    (out)[k] = (int8_t)v_;                                                                   \
  } while (0)

static inline __attribute__((always_inline)) void dwb_store4(const dwb_block_t *q, int32_t a0, int32_t a1, int32_t a2,
                                                             int32_t a3, int32_t lo, int32_t hi, int full, int8_t *out) {
  DWB_OUT(q, 0, a0, lo, hi, full, out);
  DWB_OUT(q, 1, a1, lo, hi, full, out);
  DWB_OUT(q, 2, a2, lo, hi, full, out);
  DWB_OUT(q, 3, a3, lo, hi, full, out);
}

#endif /* TINYFLOW_KERNELS_CORTEX_M4_DW_BLOCK_H */
