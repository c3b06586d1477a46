/* Requantization helpers shared by every compiled-runtime kernel, bit-exact with TFLite Micro's
 * reference kernels in their default build (TFLITE_SINGLE_ROUNDING undefined: "double rounding",
 * tensorflow/lite/kernels/internal/common.h MultiplyByQuantizedMultiplier).
 *
 * Multipliers and shifts are computed on the host (tinyflow/compile/quant.py, QuantizeMultiplier)
 * and baked into the generated C; kernels only apply them. A multiplier is a Q31 value in
 * [2^30, 2^31) (or 0), a shift is in [-31, 30]: positive shifts left before the multiply.
 *
 * Signed overflow is avoided on purpose (64-bit products, unsigned shifts) so UBSan stays quiet
 * on hostile parameters; the results equal TFLM's for every input TFLM accepts. */
#ifndef TINYFLOW_KERNELS_COMMON_H
#define TINYFLOW_KERNELS_COMMON_H

#include <stdint.h>

#ifndef TINYFLOW_KERNEL_OK
#define TINYFLOW_KERNEL_OK 0
#endif
#ifndef TINYFLOW_KERNEL_EINVAL
#define TINYFLOW_KERNEL_EINVAL (-22)
#endif

#if defined(__GNUC__) || defined(__clang__)
#define TINYFLOW_INLINE static inline __attribute__((always_inline))
#else
#define TINYFLOW_INLINE static inline
#endif

/* Per-tensor or per-channel requantization: output channel c uses multiplier[c], shift[c]
 * (per-tensor models repeat one value, so kernels never branch on the mode). */
typedef struct {
  const int32_t *multiplier;
  const int32_t *shift;
} tinyflow_requant_t;

/* gemmlowp::SaturatingRoundingDoublingHighMul: round(a * b / 2^31), saturating INT32_MIN^2. */
TINYFLOW_INLINE int32_t tinyflow_srdhm(int32_t a, int32_t b) {
  const int64_t ab = (int64_t)a * (int64_t)b;
  const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  /* Division truncates toward zero like gemmlowp's (ab + nudge) / (1ll << 31). */
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* gemmlowp::RoundingDivideByPOT: x / 2^exponent rounded half away from zero, exponent in [0, 31]. */
TINYFLOW_INLINE int32_t tinyflow_rdivpot(int32_t x, int exponent) {
  const int32_t mask = (int32_t)(((uint32_t)1 << exponent) - 1u);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* tflite::MultiplyByQuantizedMultiplier(x, multiplier, shift), double-rounding build. */
TINYFLOW_INLINE int32_t tinyflow_mbqm(int32_t x, int32_t multiplier, int32_t shift) {
  const int left_shift = shift > 0 ? (int)shift : 0;
  const int right_shift = shift > 0 ? 0 : (int)-shift;
  return tinyflow_rdivpot(tinyflow_srdhm((int32_t)((uint32_t)x << left_shift), multiplier), right_shift);
}

/* Clamp to [lo, hi] (the fused activation range, already within int8). */
TINYFLOW_INLINE int32_t tinyflow_clamp(int32_t x, int32_t lo, int32_t hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

/* The end of every conv/FC output: requantize acc, add the output zero point, clamp, narrow. */
TINYFLOW_INLINE int8_t tinyflow_requantize_s8(int32_t acc, int32_t multiplier, int32_t shift,
                                              int32_t output_offset, int32_t act_min, int32_t act_max) {
  return (int8_t)tinyflow_clamp(tinyflow_mbqm(acc, multiplier, shift) + output_offset, act_min, act_max);
}

/* Checks the kernels run once per call on host-made parameters (cheap, never in inner loops). */
TINYFLOW_INLINE int tinyflow_shift_ok(int32_t shift) { return shift >= -31 && shift <= 30; }

/* First and one-past-last filter tap whose input coordinate origin + tap * dilation is in [0, size). */
TINYFLOW_INLINE void tinyflow_tap_range(int32_t origin, int32_t dilation, int32_t taps, int32_t size, int32_t *start, int32_t *end) {
  int32_t s = origin < 0 ? (-origin + dilation - 1) / dilation : 0;
  int32_t e = size - origin <= 0 ? 0 : (size - origin + dilation - 1) / dilation;
  if (e > taps) e = taps;
  *start = s;
  *end = e < s ? s : e;
}

#endif /* TINYFLOW_KERNELS_COMMON_H */
