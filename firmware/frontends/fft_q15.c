/* KISS FFT v130 in 16-bit fixed point, iterative (twin of tinyflow/frontends/fixed.py).
 * Same per-stage 1/radix scaling, rounding and int16 stores as kiss_fft, so results are bit-exact
 * with TensorFlow's micro frontend; the recursion of kf_work is replaced by the input order table
 * and a loop over stages from the innermost out. */
#include "tinyflow/frontend.h"

static tinyflow_cpx16_t s_tmp[TINYFLOW_FRONTEND_MAX_FFT / 2];

static int16_t sround(int32_t x) { return (int16_t)((x + (1 << 14)) >> 15); }

#if !(defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP) /* the portable arithmetic */
static tinyflow_cpx16_t cmul(tinyflow_cpx16_t a, tinyflow_cpx16_t b) {
  tinyflow_cpx16_t out;
  out.r = sround((int32_t)a.r * b.r - (int32_t)a.i * b.i);
  out.i = sround((int32_t)a.r * b.i + (int32_t)a.i * b.r);
  return out;
}

static tinyflow_cpx16_t cadd(tinyflow_cpx16_t a, tinyflow_cpx16_t b) {
  tinyflow_cpx16_t out = {(int16_t)(a.r + b.r), (int16_t)(a.i + b.i)};
  return out;
}

static tinyflow_cpx16_t csub(tinyflow_cpx16_t a, tinyflow_cpx16_t b) {
  tinyflow_cpx16_t out = {(int16_t)(a.r - b.r), (int16_t)(a.i - b.i)};
  return out;
}
#endif

/* kiss_fft's C_FIXDIV by 2 and by 4: multiply by 32767 / k, round, store in int16. */
#define FIXDIV2(x) sround((int32_t)(x) * 16383)
#define FIXDIV4(x) sround((int32_t)(x) * 8191)

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
#include <string.h>

/* Cortex-M4 DSP butterflies: a complex value is one 32-bit word (real low, imaginary high); the
 * 16-bit SIMD adds wrap exactly like kiss_fft's int16 stores, SMUSD/SMUADX form the complex
 * product's int32 sums exactly (|sum| < 2^31), SMLABB/SMLATB the C_FIXDIV products: the same
 * integers as the portable code below, which the host tests run (bench/frontends.py and
 * tests/frontends/test_qemu.py check this variant on the emulated M4). */
typedef int16x2_t packed_t;

static packed_t load(const tinyflow_cpx16_t* p) {
  packed_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

static void store(tinyflow_cpx16_t* p, packed_t v) { memcpy(p, &v, sizeof v); }

static packed_t pack(int32_t lo, int32_t hi) { return (packed_t)(((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16)); }

static packed_t pdiv(packed_t x, int32_t c) {
  return pack(__smlabb(x, c, 1 << 14) >> 15, __smlatb(x, c, 1 << 14) >> 15);
}

static packed_t pmul(packed_t a, packed_t b) {
  return pack((__smusd(a, b) + (1 << 14)) >> 15, (__smuadx(a, b) + (1 << 14)) >> 15);
}

static void bfly2(tinyflow_cpx16_t* f, const tinyflow_cpx16_t* tw, unsigned fstride, unsigned m) {
  for (unsigned k = 0; k < m; ++k) {
    const packed_t a = pdiv(load(f + k), 16383);
    const packed_t t = pmul(pdiv(load(f + m + k), 16383), load(tw + k * fstride));
    store(f + m + k, __ssub16(a, t));
    store(f + k, __sadd16(a, t));
  }
}

static void bfly4(tinyflow_cpx16_t* f, const tinyflow_cpx16_t* tw, unsigned fstride, unsigned m) {
  for (unsigned k = 0; k < m; ++k) {
    const packed_t x0 = pdiv(load(f + k), 8191);
    const packed_t s0 = pmul(pdiv(load(f + m + k), 8191), load(tw + k * fstride));
    const packed_t s1 = pmul(pdiv(load(f + 2 * m + k), 8191), load(tw + 2 * k * fstride));
    const packed_t s2 = pmul(pdiv(load(f + 3 * m + k), 8191), load(tw + 3 * k * fstride));
    const packed_t s5 = __ssub16(x0, s1), y0 = __sadd16(x0, s1);
    const packed_t s3 = __sadd16(s0, s2), s4 = __ssub16(s0, s2);
    store(f + 2 * m + k, __ssub16(y0, s3));
    store(f + k, __sadd16(y0, s3));
    store(f + m + k, __ssax(s5, s4)); /* (s5.r + s4.i, s5.i - s4.r) */
    store(f + 3 * m + k, __sasx(s5, s4)); /* (s5.r - s4.i, s5.i + s4.r) */
  }
}
#else
static void bfly2(tinyflow_cpx16_t* f, const tinyflow_cpx16_t* tw, unsigned fstride, unsigned m) {
  for (unsigned k = 0; k < m; ++k) {
    const tinyflow_cpx16_t a = {FIXDIV2(f[k].r), FIXDIV2(f[k].i)};
    const tinyflow_cpx16_t b = {FIXDIV2(f[m + k].r), FIXDIV2(f[m + k].i)};
    const tinyflow_cpx16_t t = cmul(b, tw[k * fstride]);
    f[m + k] = csub(a, t);
    f[k] = cadd(a, t);
  }
}

/* One radix-4 butterfly column, in kiss_fft's order of int16 stores (each store wraps). */
static void bfly4(tinyflow_cpx16_t* f, const tinyflow_cpx16_t* tw, unsigned fstride, unsigned m) {
  tinyflow_cpx16_t* f1 = f + m;
  tinyflow_cpx16_t* f2 = f + 2 * m;
  tinyflow_cpx16_t* f3 = f + 3 * m;
  const tinyflow_cpx16_t *tw1 = tw, *tw2 = tw, *tw3 = tw;
  for (unsigned k = 0; k < m; ++k) {
    const tinyflow_cpx16_t x0 = {FIXDIV4(f[k].r), FIXDIV4(f[k].i)};
    const tinyflow_cpx16_t x1 = {FIXDIV4(f1[k].r), FIXDIV4(f1[k].i)};
    const tinyflow_cpx16_t x2 = {FIXDIV4(f2[k].r), FIXDIV4(f2[k].i)};
    const tinyflow_cpx16_t x3 = {FIXDIV4(f3[k].r), FIXDIV4(f3[k].i)};
    const tinyflow_cpx16_t s0 = cmul(x1, *tw1), s1 = cmul(x2, *tw2), s2 = cmul(x3, *tw3);
    const tinyflow_cpx16_t s5 = csub(x0, s1), y0 = cadd(x0, s1);
    const tinyflow_cpx16_t s3 = cadd(s0, s2), s4 = csub(s0, s2);
    tw1 += fstride;
    tw2 += 2 * fstride;
    tw3 += 3 * fstride;
    f2[k] = csub(y0, s3);
    f[k] = cadd(y0, s3);
    f1[k].r = (int16_t)(s5.r + s4.i);
    f1[k].i = (int16_t)(s5.i - s4.r);
    f3[k].r = (int16_t)(s5.r - s4.i);
    f3[k].i = (int16_t)(s5.i + s4.r);
  }
}
#endif

static int plan_ok(const tinyflow_fft_plan_t* plan) {
  unsigned total = 1;
  if (plan == 0 || plan->nfft < 2 || 2u * plan->nfft > TINYFLOW_FRONTEND_MAX_FFT || plan->num_stages == 0 ||
      plan->num_stages > TINYFLOW_FFT_MAX_STAGES) {
    return 0;
  }
  if (plan->order == 0 || plan->twiddles == 0 || plan->super_twiddles == 0) {
    return 0;
  }
  for (unsigned s = 0; s < plan->num_stages; ++s) {
    if (plan->radix[s] != 2 && plan->radix[s] != 4) {
      return 0;
    }
    total *= plan->radix[s];
    if ((uint32_t)total * plan->m[s] != plan->nfft) { /* keeps every twiddle index below nfft */
      return 0;
    }
  }
  return total == plan->nfft;
}

/* `in` holds nfft interleaved (re, im) pairs: kiss_fftr reads the real signal that way. */
static void complex_fft(const tinyflow_fft_plan_t* plan, const int16_t* in, tinyflow_cpx16_t* out) {
  const unsigned n = plan->nfft;
  unsigned fstride[TINYFLOW_FFT_MAX_STAGES];
  unsigned stride = 1;
  for (unsigned s = 0; s < plan->num_stages; ++s) {
    fstride[s] = stride;
    stride *= plan->radix[s];
  }
  for (unsigned j = 0; j < n; ++j) {
    const unsigned src = plan->order[j] & (n - 1u); /* n is a power of two (plan_ok) */
    out[j].r = in[2 * src];
    out[j].i = in[2 * src + 1];
  }
  for (unsigned s = plan->num_stages; s-- > 0;) {  /* innermost stage first, as kf_work unwinds */
    const unsigned p = plan->radix[s], m = plan->m[s];
    for (unsigned base = 0; base + p * m <= n; base += p * m) {
      if (p == 4) {
        bfly4(out + base, plan->twiddles, fstride[s], m);
      } else {
        bfly2(out + base, plan->twiddles, fstride[s], m);
      }
    }
  }
}

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
/* The same split with the DSP halving adds (SHADD16/SHSUB16: (a + b) >> 1 per half, exact). */
static void split(const tinyflow_fft_plan_t* plan, tinyflow_cpx16_t* out) {
  const unsigned n = plan->nfft;
  for (unsigned k = 1; k <= n / 2; ++k) {
    const packed_t fpk = pdiv(load(s_tmp + k), 16383);
    const packed_t swapped = __sasx(0, load(s_tmp + n - k)); /* (-i, r): the conjugate, exchanged */
    const packed_t fpnk = pack(__smlatb(swapped, 16383, 1 << 14) >> 15, __smlabb(swapped, 16383, 1 << 14) >> 15);
    const packed_t f1 = __sadd16(fpk, fpnk);
    const packed_t tw = pmul(__ssub16(fpk, fpnk), load(plan->super_twiddles + k - 1));
    store(out + k, __shadd16(f1, tw));
    /* (f1.r - tw.r) >> 1 and (tw.i - f1.i) >> 1: one halving subtract on regrouped halves. */
    store(out + n - k, __shsub16(pack((int16_t)f1, tw >> 16), pack((int16_t)tw, f1 >> 16)));
  }
}
#else
/* kiss_fftr's split of the half-length complex FFT into the real FFT's bins 1 .. n - 1. */
static void split(const tinyflow_fft_plan_t* plan, tinyflow_cpx16_t* out) {
  const unsigned n = plan->nfft;
  for (unsigned k = 1; k <= n / 2; ++k) {
    const tinyflow_cpx16_t fpk = {FIXDIV2(s_tmp[k].r), FIXDIV2(s_tmp[k].i)};
    const tinyflow_cpx16_t fpnk = {FIXDIV2(s_tmp[n - k].r), FIXDIV2((int16_t)-s_tmp[n - k].i)};
    const tinyflow_cpx16_t f1 = cadd(fpk, fpnk);
    const tinyflow_cpx16_t tw = cmul(csub(fpk, fpnk), plan->super_twiddles[k - 1]);
    out[k].r = (int16_t)((f1.r + tw.r) >> 1);
    out[k].i = (int16_t)((f1.i + tw.i) >> 1);
    out[n - k].r = (int16_t)((f1.r - tw.r) >> 1);
    out[n - k].i = (int16_t)((tw.i - f1.i) >> 1);
  }
}
#endif

int tinyflow_fft_rfft_q15(const tinyflow_fft_plan_t* plan, const int16_t* in, tinyflow_cpx16_t* out) {
  if (!plan_ok(plan) || in == 0 || out == 0) {
    return TINYFLOW_FRONTEND_EINVAL;
  }
  const unsigned n = plan->nfft;
  complex_fft(plan, in, s_tmp);
  const tinyflow_cpx16_t dc = {FIXDIV2(s_tmp[0].r), FIXDIV2(s_tmp[0].i)};
  out[0].r = (int16_t)(dc.r + dc.i);
  out[n].r = (int16_t)(dc.r - dc.i);
  out[0].i = out[n].i = 0;
  split(plan, out);
  return TINYFLOW_FRONTEND_OK;
}
