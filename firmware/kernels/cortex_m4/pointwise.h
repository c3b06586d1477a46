/* Pointwise (1x1) CONV_2D, two pixels x two output channels per pass, for
 * firmware/kernels/cortex_m4/conv_2d.c (included there; static functions only).
 *
 * Each pixel's input channels are widened once into 16-bit pairs with the input offset added,
 * in the order SXTB16 gives the filter bytes ((x0,x2), (x1,x3) per word of four), so the inner
 * loop loads them with one LDRD and spends its SXTB16s on the filters only. A filter word then
 * serves two pixels: 20 instructions per 16 multiply-accumulates instead of 25. */
#ifndef TINYFLOW_KERNELS_CORTEX_M4_POINTWISE_H
#define TINYFLOW_KERNELS_CORTEX_M4_POINTWISE_H

#include "requant.h"
#include "simd.h"

#define POINTWISE_MAX_DEPTH 256
/* Two pixels' widened inputs: POINTWISE_MAX_DEPTH channels, 2 bytes each. */
static int32_t pointwise_widened[2][POINTWISE_MAX_DEPTH / 2];

typedef struct {
  const int32_t *multiplier, *shift, *bias;
  const int8_t *filter;
  int32_t oc_n, depth, output_offset, act_min, act_max;
  int right_only;
} pointwise_t;

static void pointwise_widen(const int8_t *x, int32_t depth, int32_t off2, int32_t *dst) {
  for (int32_t i = 0; i < depth; i += 4, dst += 2) {
    const int32_t xv = tinyflow_m4_load4(x + i);
    dst[0] = __sxtab16(off2, xv);
    dst[1] = tinyflow_m4_sxtab16_ror8(off2, xv);
  }
}

/* acc = {pixel A ch0, pixel A ch1, pixel B ch0, pixel B ch1} += the two dot products each. */
static inline void pointwise_dot_2x2(const int32_t *xa, const int32_t *xb, const int8_t *w0, int32_t depth,
                                     int32_t *acc) {
  int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
  int32_t words = depth >> 2;
#if TINYFLOW_M4_ASM
  const int32_t w1_offset = depth - 4; /* channel 1's word, seen from w0 after its post-increment */
  int32_t we, wo, x0, x1;
  __asm__ volatile(
      "1:\n\t"
      "ldr %[we], [%[w0]], #4\n\t"
      "sxtb16 %[wo], %[we], ror #8\n\t"
      "sxtb16 %[we], %[we]\n\t"
      "ldrd %[x0], %[x1], [%[xa]]\n\t"
      "smlad %[a00], %[x0], %[we], %[a00]\n\t"
      "smlad %[a00], %[x1], %[wo], %[a00]\n\t"
      "ldrd %[x0], %[x1], [%[xb]]\n\t"
      "smlad %[a10], %[x0], %[we], %[a10]\n\t"
      "smlad %[a10], %[x1], %[wo], %[a10]\n\t"
      "ldr %[we], [%[w0], %[w1o]]\n\t"
      "sxtb16 %[wo], %[we], ror #8\n\t"
      "sxtb16 %[we], %[we]\n\t"
      "ldrd %[x0], %[x1], [%[xa]], #8\n\t"
      "smlad %[a01], %[x0], %[we], %[a01]\n\t"
      "smlad %[a01], %[x1], %[wo], %[a01]\n\t"
      "ldrd %[x0], %[x1], [%[xb]], #8\n\t"
      "smlad %[a11], %[x0], %[we], %[a11]\n\t"
      "smlad %[a11], %[x1], %[wo], %[a11]\n\t"
      "subs %[n], %[n], #1\n\t"
      "bne 1b\n\t"
      : [xa] "+r"(xa), [xb] "+r"(xb), [w0] "+r"(w0), [n] "+r"(words), [a00] "+r"(a00), [a01] "+r"(a01),
        [a10] "+r"(a10), [a11] "+r"(a11), [we] "=&r"(we), [wo] "=&r"(wo), [x0] "=&r"(x0), [x1] "=&r"(x1)
      : [w1o] "r"(w1_offset)
      : "cc", "memory");
#else
  const int8_t *w1 = w0 + depth;
  for (; words > 0; --words, xa += 2, xb += 2, w0 += 4, w1 += 4) {
    const int32_t v0 = tinyflow_m4_load4(w0), v1 = tinyflow_m4_load4(w1);
    const int32_t e0 = __sxtb16(v0), o0 = tinyflow_m4_sxtb16_ror8(v0);
    const int32_t e1 = __sxtb16(v1), o1 = tinyflow_m4_sxtb16_ror8(v1);
    a00 = __smlad(xa[1], o0, __smlad(xa[0], e0, a00));
    a01 = __smlad(xa[1], o1, __smlad(xa[0], e1, a01));
    a10 = __smlad(xb[1], o0, __smlad(xb[0], e0, a10));
    a11 = __smlad(xb[1], o1, __smlad(xb[0], e1, a11));
  }
#endif
  acc[0] = a00, acc[1] = a01, acc[2] = a10, acc[3] = a11;
}

/* A dot product of one widened pixel with one channel's filter (odd channel counts). */
static int32_t pointwise_dot_1(const int32_t *x, const int8_t *w, int32_t depth) {
  int32_t a = 0;
  for (int32_t i = 0; i < depth; i += 4, x += 2) {
    const int32_t v = tinyflow_m4_load4(w + i);
    a = __smlad(x[1], tinyflow_m4_sxtb16_ror8(v), __smlad(x[0], __sxtb16(v), a));
  }
  return a;
}

/* Both pixels' outputs; xa/xb are the widened inputs. */
__attribute__((noinline)) static void pointwise_pair(const pointwise_t *pw, const int32_t *xa, const int32_t *xb,
                                                     int8_t *out_a, int8_t *out_b) {
  /* Locals, not pw->...: stores through int8_t outputs may alias anything. */
  const int32_t *const mult_ = pw->multiplier, *const shift_ = pw->shift, *const bias_ = pw->bias;
  const int32_t o_off_ = pw->output_offset, lo_ = pw->act_min, hi_ = pw->act_max;
  const int right_only_ = pw->right_only;
  const int32_t depth = pw->depth;
  int32_t oc = 0;
  for (; oc + 2 <= pw->oc_n; oc += 2) {
    int32_t acc[4] = {0, 0, 0, 0};
    if (bias_ != 0) acc[0] = acc[2] = bias_[oc], acc[1] = acc[3] = bias_[oc + 1];
    pointwise_dot_2x2(xa, xb, pw->filter + oc * depth, depth, acc);
    for (int32_t k = 0; k < 2; ++k) {
      const int32_t m = mult_[oc + k], s = shift_[oc + k];
      out_a[oc + k] = tinyflow_m4_requant(right_only_, acc[k], m, s, o_off_, lo_, hi_);
      out_b[oc + k] = tinyflow_m4_requant(right_only_, acc[2 + k], m, s, o_off_, lo_, hi_);
    }
  }
  for (; oc < pw->oc_n; ++oc) {
    const int32_t b = bias_ != 0 ? bias_[oc] : 0, m = mult_[oc], s = shift_[oc];
    const int8_t *w = pw->filter + oc * depth;
    out_a[oc] = tinyflow_m4_requant(right_only_, b + pointwise_dot_1(xa, w, depth), m, s, o_off_,
                                    lo_, hi_);
    out_b[oc] = tinyflow_m4_requant(right_only_, b + pointwise_dot_1(xb, w, depth), m, s, o_off_,
                                    lo_, hi_);
  }
}

/* 1 when conv_pointwise_pairs() applies: 1x1, no padding, no groups, depth a multiple of 4
 * that fits the widening buffers. */
static int pointwise_pairs_ok(const tinyflow_conv_params_t *p) {
  return p->filter_h == 1 && p->filter_w == 1 && p->filter_c == p->input_c && p->pad_h == 0 && p->pad_w == 0 &&
         p->input_c % 4 == 0 && p->input_c <= POINTWISE_MAX_DEPTH;
}

/* Pixels in pairs (in raster order, across rows); an odd last pixel is paired with itself. */
static void conv_pointwise_pairs(const tinyflow_conv_params_t *p, const int32_t *multiplier, const int32_t *shift,
                                 const int8_t *input, const int8_t *filter, const int32_t *bias, int8_t *output) {
  const int32_t depth = p->input_c, oc_n = p->output_c, pixels = p->output_h * p->output_w;
  const int32_t off2 = tinyflow_m4_offset2(p->input_offset);
  const pointwise_t pw = {multiplier, shift, bias, filter, oc_n, depth, p->output_offset, p->act_min, p->act_max,
                          tinyflow_m4_right_only(multiplier, shift, oc_n)};
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *in_b = input + b * p->input_h * p->input_w * depth;
    int8_t *out_b = output + b * pixels * oc_n;
    for (int32_t i = 0; i < pixels; i += 2) {
      const int32_t j = i + 1 < pixels ? i + 1 : i;
      const int32_t ia = ((i / p->output_w) * p->stride_h * p->input_w + (i % p->output_w) * p->stride_w) * depth;
      const int32_t ib = ((j / p->output_w) * p->stride_h * p->input_w + (j % p->output_w) * p->stride_w) * depth;
      pointwise_widen(in_b + ia, depth, off2, pointwise_widened[0]);
      pointwise_widen(in_b + ib, depth, off2, pointwise_widened[1]);
      pointwise_pair(&pw, pointwise_widened[0], pointwise_widened[1], out_b + i * oc_n, out_b + j * oc_n);
    }
  }
}

#endif /* TINYFLOW_KERNELS_CORTEX_M4_POINTWISE_H */
